package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func runVersion(ctx context.Context, c *cli, args []string) error {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
		_, err := fmt.Fprintf(c.stdout, "portico %s (%s)\n", v, info.GoVersion)
		return err
	}
	_, err := fmt.Fprintf(c.stdout, "portico %s\n", v)
	return err
}

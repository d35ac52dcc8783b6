package main

import (
	"context"
	"fmt"
	"strings"
)

func runScope(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "scope", args, map[string]func(context.Context, *cli, []string) error{
		"create": runScopeCreate,
		"list":   runScopeList,
	})
}

func runScopeCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("scope create")
	f := c.oauthFlags(fs)
	name := fs.String("name", "", "scope name, e.g. orders:read (required)")
	desc := fs.String("description", "", "what the scope allows")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	sc, err := env.reg.CreateScope(ctx, cliOAuthActor, *name, *desc)
	if err != nil {
		return err
	}
	return c.output(*f.asJSON, sc, "created scope "+sc.Name)
}

func runScopeList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("scope list")
	f := c.oauthFlags(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	list, err := env.st.Scopes(ctx)
	if err != nil {
		return err
	}
	var lines []string
	for _, sc := range list {
		lines = append(lines, fmt.Sprintf("%-30s %s", sc.Name, sc.Description))
	}
	if list == nil {
		return c.output(*f.asJSON, []any{}, "no scopes")
	}
	return c.output(*f.asJSON, list, strings.Join(lines, "\n"))
}

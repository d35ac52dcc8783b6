package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSessionMaxAgeConfig: PORTICO_SESSION_MAX_AGE defaults to 7 days and
// takes a Go duration or whole days; nonsense stops start-up.
func TestSessionMaxAgeConfig(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want time.Duration
	}{{"", 7 * 24 * time.Hour}, {"12h", 12 * time.Hour}, {"30d", 30 * 24 * time.Hour}} {
		c := &cli{getenv: func(k string) string {
			if k == "PORTICO_SESSION_MAX_AGE" {
				return tc.raw
			}
			return ""
		}, stderr: &bytes.Buffer{}}
		cfg, err := c.parseConfig(nil)
		if err != nil || cfg.SessionMaxAge != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.raw, cfg, err, tc.want)
		}
	}
	c := &cli{getenv: func(string) string { return "" }, stderr: &bytes.Buffer{}}
	for _, bad := range []string{"forever", "1s", "-3d", "1000d"} {
		if _, err := c.parseConfig([]string{"--session-max-age", bad}); err == nil || !strings.Contains(err.Error(), "PORTICO_SESSION_MAX_AGE") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

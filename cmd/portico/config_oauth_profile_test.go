package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConfigOAuthProfile: PORTICO_REQUIRE_PAR, PORTICO_REQUIRE_DPOP and
// PORTICO_DPOP_NONCE reach the authorization server; off by default.
func TestConfigOAuthProfile(t *testing.T) {
	env := map[string]string{}
	c := &cli{getenv: func(k string) string { return env[k] }, stderr: &bytes.Buffer{}}
	cfg, err := c.parseConfig(nil)
	if err != nil || cfg.RequirePAR || cfg.RequireDPoP || cfg.DPoPNonce {
		t.Fatalf("defaults: %v %+v", err, cfg)
	}
	env["PORTICO_REQUIRE_PAR"], env["PORTICO_REQUIRE_DPOP"], env["PORTICO_DPOP_NONCE"] = "true", "true", "true"
	if cfg, err = c.parseConfig(nil); err != nil || !cfg.RequirePAR || !cfg.RequireDPoP || !cfg.DPoPNonce {
		t.Fatalf("from the environment: %v %+v", err, cfg)
	}
	base, _ := startPortal(t, "--require-par")
	resp, err := http.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"require_pushed_authorization_requests":true`) ||
		!strings.Contains(string(b), `"pushed_authorization_request_endpoint":"`+base+`/par"`) {
		t.Fatalf("discovery: %s", b)
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOAuthCommands drives client, scope, keys and registration-token
// commands with --json, as automation would.
func TestOAuthCommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	tc.mustRun("scope", "create", "--name", "orders:read", "--json")
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Org          string `json:"org"`
		Type         string `json:"type"`
	}
	out := tc.mustRun("client", "create", "--org", "acme", "--name", "Sync", "--type", "service",
		"--scope", "orders:read", "--json")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ClientID == "" ||
		len(created.ClientSecret) != 43 || created.Org != "acme" || created.Type != "service" {
		t.Fatalf("client create: %v %s", err, out)
	}
	var rotated struct {
		ClientSecret string `json:"client_secret"`
		Secrets      []struct {
			ExpiresAt string `json:"expires_at"`
		} `json:"secrets"`
	}
	out = tc.mustRun("client", "rotate-secret", "--client-id", created.ClientID, "--grace", "24h", "--json")
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.ClientSecret == "" ||
		rotated.ClientSecret == created.ClientSecret || len(rotated.Secrets) != 2 {
		t.Fatalf("rotate-secret: %v %s", err, out)
	}
	if _, err := tc.run("client", "create", "--org", "acme", "--name", "Bad", "--type", "web",
		"--redirect-uri", "http://evil.example/cb", "--scope", "nope"); err == nil ||
		!strings.Contains(err.Error(), "redirect_uris[0]") || !strings.Contains(err.Error(), "scopes[0]") {
		t.Fatalf("invalid client accepted or badly reported: %v", err)
	}
	var keys []struct{ Alg string }
	if err := json.Unmarshal([]byte(tc.mustRun("keys", "rotate", "--json")), &keys); err != nil || len(keys) != 2 {
		t.Fatalf("keys rotate: %v %v", err, keys)
	}
	var rt struct{ Token, Org string }
	if err := json.Unmarshal([]byte(tc.mustRun("registration-token", "create", "--org", "acme", "--json")), &rt); err != nil ||
		rt.Token == "" || rt.Org != "acme" {
		t.Fatalf("registration-token create: %v %+v", err, rt)
	}
	tc.mustRun("client", "disable", "--client-id", created.ClientID)
	var list []struct{ Enabled bool }
	if err := json.Unmarshal([]byte(tc.mustRun("client", "list", "--org", "acme", "--json")), &list); err != nil ||
		len(list) != 1 || list[0].Enabled {
		t.Fatalf("client list: %v %+v", err, list)
	}
	tc.mustRun("client", "delete", "--client-id", created.ClientID)
	if _, err := tc.run("client", "show", "--client-id", created.ClientID); err == nil {
		t.Fatal("deleted client still shown")
	}
}

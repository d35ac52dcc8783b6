package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyEvalCommand runs DESIGN.md's example exactly as written.
func TestPolicyEvalCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pol := write("p.json", `{"name":"Development portal access","description":"IBM's example","kind":"user_access",
	  "rules":[{"name":"New location needs MFA","conditions":[{"type":"location","new":true}],"action":"challenge"},
	           {"name":"Developers and contractors","conditions":[{"type":"group","any_of":["contractors","developers"]}],"action":"permit"}],
	  "default":"deny"}`)
	tc := newTestCLI(t)
	cases := []struct {
		name, request, action string
		rule                  any
	}{
		{"contractor at a new location", `{"time":"2026-11-23T23:00:00Z","ip":"198.51.100.4","country":"BR",
		  "user":{"groups":["contractors"],"org":"acme","plan":"gold","attributes":{"department":"sales"},
		  "mfa_at":"2026-11-23T22:50:00Z","locations":["203.0.113.0/24"]},
		  "client":{"id":"inventory-sync","scopes":["payments:write"]}}`, "challenge", float64(1)},
		{"contractor at a remembered location", `{"time":"2026-11-23T23:00:00Z","ip":"203.0.113.9",
		  "user":{"groups":["contractors"],"locations":["203.0.113.0/24"]}}`, "permit", float64(2)},
		{"neither group, remembered location", `{"time":"2026-11-23T23:00:00Z","ip":"203.0.113.9",
		  "user":{"groups":["sales"],"locations":["203.0.113.0/24"]}}`, "deny", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := write(filepath.Base(t.Name())+".json", c.request)
			out := tc.mustRun("policy", "eval", "--policy", pol, "--request", req)
			var d map[string]any
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if d["action"] != c.action || d["rule"] != c.rule || d["reason"] == "" {
				t.Fatalf("got %s", out)
			}
		})
	}
	bad := write("bad.json", `{"name":"x","kind":"user_access","rules":[{"conditions":[{"type":"ip","in":["10.0.0.0/33"]}],"action":"permit"}],"default":"deny"}`)
	_, err := tc.run("policy", "eval", "--policy", bad, "--request", pol)
	if err == nil || !strings.Contains(err.Error(), `rules[0].conditions[0].in[0]`) {
		t.Fatalf("invalid policy: %v", err)
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOrgUpdateRequireMFA(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	var o orgJSON
	out := tc.mustRun("org", "update", "--slug", "acme", "--require-mfa", "true", "--json")
	if err := json.Unmarshal([]byte(out), &o); err != nil || !o.RequireMFA || o.Name != "Acme" {
		t.Fatalf("%v %s", err, out)
	}
	if out := tc.mustRun("org", "show", "--slug", "acme"); !strings.Contains(out, "require_mfa=true") {
		t.Fatalf("show: %s", out)
	}
	if _, err := tc.run("org", "update", "--slug", "acme", "--require-mfa", "yes"); err == nil || !strings.Contains(err.Error(), "require-mfa") {
		t.Fatalf("a value other than true or false: %v", err)
	}
	out = tc.mustRun("org", "update", "--slug", "acme", "--require-mfa", "false", "--json")
	if err := json.Unmarshal([]byte(out), &o); err != nil || o.RequireMFA {
		t.Fatalf("%v %s", err, out)
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestWebhookCommands: create prints the secret once, list never does,
// bad input stores nothing, delete removes it; inbound hooks likewise.
func TestWebhookCommands(t *testing.T) {
	tc := newTestCLI(t)
	if _, err := tc.run("webhook", "create", "--url", "http://example.com/h", "--event", "organization.created"); err == nil {
		t.Fatal("an http URL off loopback was accepted")
	}
	var made struct{ ID, Secret string }
	out := tc.mustRun("webhook", "create", "--url", "https://crm.example.com/h", "--event", "organization.created,member.joined", "--json")
	if err := json.Unmarshal([]byte(out), &made); err != nil || !strings.HasPrefix(made.Secret, "whsec_") {
		t.Fatalf("create: %s (%v)", out, err)
	}
	list := tc.mustRun("webhook", "list", "--json")
	if strings.Contains(list, made.Secret) || !strings.Contains(list, "member.joined") || strings.Count(list, `"id"`) != 1 {
		t.Fatalf("list: %s", list)
	}
	if out := tc.mustRun("webhook", "deliveries"); !strings.Contains(out, "no deliveries") {
		t.Errorf("deliveries: %s", out)
	}
	tc.mustRun("webhook", "delete", "--id", made.ID)
	if _, err := tc.run("webhook", "delete", "--id", made.ID); err == nil {
		t.Error("deleting twice succeeded")
	}
	out = tc.mustRun("hook", "create", "--name", "billing", "--json")
	if !strings.Contains(out, "whsec_") || !strings.Contains(out, "/hooks/inbound/") {
		t.Fatalf("hook create: %s", out)
	}
	if _, err := tc.run("hook", "create", "--name", "billing"); err == nil {
		t.Error("a second hook of the same name was created")
	}
	if out := tc.mustRun("hook", "list"); strings.Contains(out, "whsec_") || !strings.Contains(out, "billing") {
		t.Errorf("hook list: %s", out)
	}
	tc.mustRun("hook", "delete", "--name", "billing")
}

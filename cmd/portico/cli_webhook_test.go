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

// TestWebhookEditCommands: update changes events and description without
// a new secret; a new URL prints a new secret once; bad input changes
// nothing; pause and resume show in list; an unknown ID is an error.
func TestWebhookEditCommands(t *testing.T) {
	tc := newTestCLI(t)
	var made struct{ ID, Secret string }
	out := tc.mustRun("webhook", "create", "--url", "https://crm.example.com/h", "--event", "organization.created", "--json")
	if err := json.Unmarshal([]byte(out), &made); err != nil {
		t.Fatalf("create: %s (%v)", out, err)
	}
	if _, err := tc.run("webhook", "update", "--id", made.ID, "--url", "http://example.com/h"); err == nil {
		t.Fatal("an http URL off loopback was accepted")
	}
	if _, err := tc.run("webhook", "update", "--id", made.ID, "--event", "nope"); err == nil {
		t.Fatal("an unknown event was accepted")
	}
	out = tc.mustRun("webhook", "update", "--id", made.ID, "--event", "member.joined", "--description", "CRM", "--json")
	if strings.Contains(out, "whsec_") || !strings.Contains(out, "member.joined") || strings.Contains(out, "organization.created") {
		t.Fatalf("update events: %s", out)
	}
	var upd struct{ URL, Secret string }
	out = tc.mustRun("webhook", "update", "--id", made.ID, "--url", "https://crm2.example.com/h", "--json")
	if err := json.Unmarshal([]byte(out), &upd); err != nil || !strings.HasPrefix(upd.Secret, "whsec_") || upd.Secret == made.Secret ||
		upd.URL != "https://crm2.example.com/h" {
		t.Fatalf("update URL: %s (%v)", out, err)
	}
	tc.mustRun("webhook", "pause", "--id", made.ID)
	list := tc.mustRun("webhook", "list", "--json")
	if !strings.Contains(list, `"enabled": false`) || strings.Contains(list, upd.Secret) || !strings.Contains(list, "crm2.example.com") {
		t.Fatalf("list after pause: %s", list)
	}
	if out := tc.mustRun("webhook", "list"); !strings.Contains(out, "paused") {
		t.Fatalf("list after pause does not say paused: %s", out)
	}
	tc.mustRun("webhook", "resume", "--id", made.ID)
	if list := tc.mustRun("webhook", "list", "--json"); !strings.Contains(list, `"enabled": true`) {
		t.Fatalf("list after resume: %s", list)
	}
	for _, args := range [][]string{{"pause", "--id", "wh_nope"}, {"resume", "--id", "wh_nope"}, {"update", "--id", "wh_nope", "--description", "x"}} {
		if _, err := tc.run(append([]string{"webhook"}, args...)...); err == nil {
			t.Errorf("webhook %v on an unknown ID succeeded", args)
		}
	}
}

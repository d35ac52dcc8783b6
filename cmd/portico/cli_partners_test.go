package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"portico/partners"
	"portico/store"
)

func TestPlanCommands(t *testing.T) {
	tc := newTestCLI(t)
	out := tc.mustRun("plan", "create", "--slug", "gold", "--name", "Gold",
		"--feature", "orders scopes=orders:read,orders:write app_types=web,service max_apps=5",
		"--feature", "reports scopes=reports:read", "--json")
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.Features) != 2 || p.Features[0].MaxApps != 5 ||
		strings.Join(p.Features[0].AppTypes, ",") != "service,web" {
		t.Fatalf("%v %s", err, out)
	}
	for name, args := range map[string][]string{
		"bad scope":    {"plan", "create", "--slug", "x", "--name", "X", "--feature", `f scopes=a"b`},
		"bad app type": {"plan", "create", "--slug", "x", "--name", "X", "--feature", "f app_types=mainframe"},
		"bad setting":  {"plan", "create", "--slug", "x", "--name", "X", "--feature", "f colour=blue"},
		"taken slug":   {"plan", "create", "--slug", "gold", "--name", "Again"},
		"missing":      {"plan", "update", "--slug", "nope", "--name", "N"},
	} {
		if _, err := tc.run(args...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	out = tc.mustRun("plan", "update", "--slug", "gold", "--feature", "orders scopes=orders:read", "--json")
	if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.Features) != 1 || p.Name != "Gold" {
		t.Fatalf("update replaces the features and keeps the name: %v %s", err, out)
	}
	out = tc.mustRun("plan", "list", "--json")
	var list []planJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		t.Fatalf("%v %s", err, out)
	}
	if out := tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme", "--plan", "gold", "--json"); !strings.Contains(out, `"plan": "gold"`) {
		t.Fatal(out)
	}
}

func TestMemberCommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.env["PORTICO_ISSUER"] = "https://portal.example"
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")

	out := tc.mustRun("member", "invite", "--org", "acme", "--email", "Dev@Partner.example", "--role", "developer", "--json")
	var inv invitationJSON
	if err := json.Unmarshal([]byte(out), &inv); err != nil || inv.Email != "dev@partner.example" ||
		!strings.HasPrefix(inv.Link, "https://portal.example/invite/") || inv.Role != "developer" {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := tc.run("member", "invite", "--org", "acme", "--email", "nope", "--role", "member"); err == nil ||
		!strings.Contains(err.Error(), "email") {
		t.Errorf("bad email: %v", err)
	}
	if _, err := tc.run("member", "invite", "--org", "nope", "--email", "a@b.example"); err == nil {
		t.Error("an unknown organization was accepted")
	}

	out = tc.mustRun("member", "invite", "--org", "acme", "--email", "other@partner.example", "--json")
	var second invitationJSON
	json.Unmarshal([]byte(out), &second)
	tc.mustRun("member", "revoke-invite", "--org", "acme", "--id", second.ID)
	if _, err := tc.run("member", "revoke-invite", "--org", "acme", "--id", second.ID); err == nil {
		t.Error("revoking twice succeeded")
	}
	out = tc.mustRun("member", "invitations", "--org", "acme", "--json")
	if !strings.Contains(out, `"state": "revoked"`) || !strings.Contains(out, `"state": "pending"`) || strings.Contains(out, "token") {
		t.Errorf("invitations: %s", out)
	}

	// Accept the invitation as the portal would, then manage the member.
	ctx := context.Background()
	st, err := store.Open(ctx, tc.env["PORTICO_DB"])
	if err != nil {
		t.Fatal(err)
	}
	svc := &partners.Service{Store: st, Now: time.Now}
	token := inv.Link[strings.LastIndex(inv.Link, "/")+1:]
	if _, err := svc.AcceptInvitation(ctx, fakePasswords{}, token, partners.AcceptInput{Name: "Dev", Password: "long enough password"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out = tc.mustRun("member", "list", "--org", "acme", "--json")
	var members []partners.Member
	if err := json.Unmarshal([]byte(out), &members); err != nil || len(members) != 1 || members[0].Role != store.RoleDeveloper {
		t.Fatalf("%v %s", err, out)
	}
	out = tc.mustRun("member", "role", "--org", "acme", "--email", "dev@partner.example", "--role", "admin", "--json")
	if !strings.Contains(out, `"role": "admin"`) {
		t.Fatal(out)
	}
	if _, err := tc.run("member", "role", "--org", "acme", "--email", "dev@partner.example", "--role", "owner"); err == nil {
		t.Error("an unknown role was accepted")
	}
	tc.mustRun("member", "remove", "--org", "acme", "--email", "dev@partner.example")
	if out := tc.mustRun("member", "list", "--org", "acme", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("after removal: %s", out)
	}
	if _, err := tc.run("member", "remove", "--org", "acme", "--email", "dev@partner.example"); err == nil {
		t.Error("removing a missing member succeeded")
	}
}

// fakePasswords stands in for the identity pool: the CLI test is about the
// commands, not argon2.
type fakePasswords struct{}

func (fakePasswords) Weakness(pw string) string {
	if len(pw) < 12 {
		return "too short"
	}
	return ""
}
func (fakePasswords) Hash(pw string) (string, error) { return "fake$" + pw, nil }

package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestGroupCommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	tc.mustRun("org", "create", "--slug", "globex", "--name", "Globex")
	tc.mustRun("user", "create", "--org", "acme", "--email", "ada@acme.example", "--name", "Ada")
	tc.mustRun("user", "create", "--org", "globex", "--email", "gus@globex.example", "--name", "Gus")

	out := tc.mustRun("group", "create", "--org", "acme", "--name", "developers", "--json")
	var g groupJSON
	if err := json.Unmarshal([]byte(out), &g); err != nil || g.Name != "developers" || g.Source != "local" || g.Org != "acme" {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := tc.run("group", "create", "--org", "acme", "--name", "developers"); err == nil {
		t.Error("a duplicate group was created")
	}
	if _, err := tc.run("group", "create", "--org", "acme", "--name", "a, b"); err == nil || !strings.Contains(err.Error(), "comma") {
		t.Errorf("a name with a comma: %v", err)
	}
	tc.mustRun("group", "add-member", "--org", "acme", "--name", "developers", "--email", "ada@acme.example")
	if _, err := tc.run("group", "add-member", "--org", "acme", "--name", "developers", "--email", "gus@globex.example"); err == nil {
		t.Error("another organization's user was added")
	}
	out = tc.mustRun("group", "members", "--org", "acme", "--name", "developers", "--json")
	var members []groupMemberJSON
	if err := json.Unmarshal([]byte(out), &members); err != nil || len(members) != 1 || members[0].Email != "ada@acme.example" {
		t.Fatalf("%v %s", err, out)
	}
	st := tc.openTestStore()
	ctx := context.Background()
	u, err := st.UserByEmail(ctx, mustOrgID(t, st, "acme"), "ada@acme.example")
	if err != nil || !slices.Equal(u.Groups(), []string{"developers"}) {
		t.Fatalf("groups of the user: %v %v", u.Groups(), err)
	}
	tc.mustRun("group", "remove-member", "--org", "acme", "--name", "developers", "--email", "ada@acme.example")
	u, _ = st.UserByEmail(ctx, mustOrgID(t, st, "acme"), "ada@acme.example")
	if len(u.Groups()) != 0 {
		t.Fatalf("after removal: %v", u.Groups())
	}
	if _, err := tc.run("group", "delete", "--org", "globex", "--name", "developers"); err == nil {
		t.Error("deleted another organization's group")
	}
	tc.mustRun("group", "delete", "--org", "acme", "--name", "developers")
	if out := tc.mustRun("group", "list", "--org", "acme", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("after delete: %s", out)
	}
}

package main

import (
	"context"
	"encoding/json"
	"testing"

	"portico/store"
)

// TestOrgSetAttribute: the CLI sets, lists and removes an organization's
// attribute, audits each change, and refuses bad names and unknown
// organizations without storing anything.
func TestOrgSetAttribute(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	tc.mustRun("org", "set-attribute", "--slug", "acme", "--name", "regions", "--value", " eu , us,,")
	var j orgJSON
	if err := json.Unmarshal([]byte(tc.mustRun("org", "show", "--slug", "acme", "--json")), &j); err != nil || j.Attributes["regions"] != "eu,us" {
		t.Fatalf("show: %+v %v", j, err)
	}
	for _, bad := range [][]string{
		{"--slug", "acme", "--name", "has space", "--value", "x"},
		{"--slug", "acme", "--name", "a=b", "--value", "x"},
		{"--slug", "nope", "--name", "regions", "--value", "x"},
		{"--slug", "acme", "--value", "x"},
	} {
		if _, err := tc.run(append([]string{"org", "set-attribute"}, bad...)...); err == nil {
			t.Errorf("org set-attribute %v was accepted", bad)
		}
	}
	tc.mustRun("org", "set-attribute", "--slug", "acme", "--name", "regions", "--value", "")
	st := tc.openTestStore()
	o, err := st.OrganizationBySlug(context.Background(), "acme")
	if err != nil || len(o.Attributes) != 0 {
		t.Fatalf("after removal: %v %v", o.Attributes, err)
	}
	evs, err := st.AuditEvents(context.Background(), store.AuditFilter{OrgID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Action == "org.attribute" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d org.attribute audit events, want 2", n)
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"portico/store"
)

// A decision's page links to the policy version, the user and the app,
// and replays the decision in the simulator with what it looked at; an
// org admin gets the user and app links of their own organization only.
func TestDecisionPageLinksAndReplays(t *testing.T) {
	w := newPolicyWorld(t)
	ctx := context.Background()
	r := w.admin.Post("/admin/policies/new", ibmForm("save"))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	policyID := strings.TrimPrefix(strings.SplitN(r.Header.Get("Location"), "?", 2)[0], "/admin/policies/")
	mia, err := w.h.Store.UserByEmail(ctx, w.acme.ID, "mia@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	ds := []store.Decision{{At: at, Point: "launch", OrgID: w.acme.ID, UserID: mia.ID, Subject: "mia@acme.example",
		ClientID: "dev-portal", PolicyID: policyID, PolicyVersion: 1, Action: "deny", Reason: "no rule matched",
		Context: []byte(`{"ip":"198.51.100.7","country":"DE","groups":["sales","support"],"org":"acme"}`)}}
	if _, err := w.h.Store.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	page := doc(t, w.admin.Get("/decisions/"+ds[0].ID).Body)
	for sel, want := range map[string]string{
		"#decision-policy": "/admin/policies/" + policyID + "/versions#v1",
		"#decision-user":   "/org/members?q=mia%40acme.example&org=acme",
		"#decision-app":    "/apps/dev-portal?org=acme",
		"#decision-replay": "/admin/policies/" + policyID + "?replay=" + ds[0].ID,
	} {
		if got, _ := page.Find(sel).Attr("href"); got != want {
			t.Errorf("%s links to %q, want %q", sel, got, want)
		}
	}
	editor := doc(t, w.admin.Get("/admin/policies/"+policyID+"?replay="+ds[0].ID).Body)
	for name, want := range map[string]string{"sim.ip": "198.51.100.7", "sim.country": "DE", "sim.groups": "sales, support",
		"sim.time": "2026-11-23T09:30", "sim.client": "dev-portal"} {
		if got, _ := editor.Find(`[name="` + name + `"]`).Attr("value"); got != want {
			t.Errorf("replay fills %s with %q, want %q", name, got, want)
		}
	}
	// The simulator's organization, plan and client are pickers.
	for _, sel := range []string{`#sim-orgs option[value="acme"]`, `#sim-clients option[value="dev-portal"]`} {
		if editor.Find(sel).Length() != 1 {
			t.Errorf("the simulator offers no %s", sel)
		}
	}
	if v, _ := editor.Find(`input[name="sim.client"]`).Attr("list"); v != "sim-clients" {
		t.Error("the client input is not tied to its picker")
	}
	own := doc(t, w.acmeAdmin.Get("/decisions/"+ds[0].ID).Body)
	if href, _ := own.Find("#decision-app").Attr("href"); href != "/apps/dev-portal" {
		t.Errorf("acme's admin gets the app link %q", href)
	}
	if own.Find("#decision-replay").Length() != 0 || own.Find("#decision-policy").Length() != 0 {
		t.Error("an org admin is offered the platform's policy pages")
	}
	if r := w.globexAdmin.Get("/decisions/" + ds[0].ID); r.StatusCode != http.StatusNotFound {
		t.Errorf("globex's admin opening acme's decision: %d", r.StatusCode)
	}
}

// A saved version keeps the note typed beside "Save", and the versions
// page shows it.
func TestPolicyVersionNote(t *testing.T) {
	w := newPolicyWorld(t)
	f := ibmForm("save")
	f.Set("note", "first cut, from IBM's example")
	r := w.admin.Post("/admin/policies/new", f)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	id := strings.TrimPrefix(strings.SplitN(r.Header.Get("Location"), "?", 2)[0], "/admin/policies/")
	vs, err := w.h.Store.PolicyVersions(context.Background(), id)
	if err != nil || len(vs) != 1 || vs[0].Note != "first cut, from IBM's example" {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	if got := doc(t, w.admin.Get("/admin/policies/"+id+"/versions").Body).Find("#v1").Text(); !strings.Contains(got, "first cut") {
		t.Errorf("the versions page shows %q", got)
	}
}

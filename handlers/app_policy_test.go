package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/policyeditor"
	"portico/store"
)

// TestAppPagePolicyPicker attaches and detaches through an app's page: the
// picker lists policies of the app's kind, a policy of the wrong kind is
// refused with nothing changed, and only platform admins may choose.
func TestAppPagePolicyPicker(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	staff := w.staff
	admin, acmeAdmin := w.as(t, platformAdmin), w.as(t, orgAdmin)
	for _, c := range []store.Client{
		{OrgID: staff.ID, ClientID: "wiki", Name: "Wiki", Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"},
		{OrgID: staff.ID, ClientID: "sync", Name: "Sync", Type: store.ClientService, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"},
	} {
		if err := w.h.Store.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	svc := &policyeditor.Service{Store: w.h.Store}
	actor := store.Actor{Label: "test"}
	ua, err := svc.Import(ctx, actor, []byte(ibmPolicy))
	if err != nil {
		t.Fatal(err)
	}
	m2m, err := svc.Import(ctx, actor, []byte(`{"name":"Machines","kind":"machine_to_machine","rules":[],"default":"permit"}`))
	if err != nil {
		t.Fatal(err)
	}

	// The picker offers user-access policies to a web app, "none" chosen.
	d := doc(t, admin.Get("/apps/wiki").Body)
	opts := d.Find("#app-policy-select option")
	if opts.Length() != 2 || opts.First().AttrOr("value", "x") != "" || !opts.First().Is("[selected]") ||
		opts.Last().AttrOr("value", "") != ua.Policy.ID {
		t.Fatalf("web app options: %d %q", opts.Length(), opts.Text())
	}
	// A service app is offered machine-to-machine ones.
	if v := doc(t, admin.Get("/apps/sync").Body).Find("#app-policy-select option").Last().AttrOr("value", ""); v != m2m.Policy.ID {
		t.Fatalf("service app options end with %q", v)
	}

	attached := func(clientID string) string {
		t.Helper()
		cl, err := w.h.Store.ClientByClientID(ctx, staff.ID, clientID)
		if err != nil {
			t.Fatal(err)
		}
		return cl.PolicyID
	}
	r := admin.Post("/apps/wiki/policy", url.Values{"policy": {ua.Policy.ID}})
	if r.StatusCode != http.StatusSeeOther || attached("wiki") != ua.Policy.ID {
		t.Fatalf("attach: %d, attached %q", r.StatusCode, attached("wiki"))
	}
	d = doc(t, admin.Get("/apps/wiki").Body)
	if d.Find("#app-policy-select option[selected]").AttrOr("value", "") != ua.Policy.ID {
		t.Fatal("the attached policy is not the selected one")
	}
	events, err := w.h.Store.AuditEvents(ctx, store.AuditFilter{})
	audited := false
	for _, e := range events {
		audited = audited || e.Action == "policy.attach" && e.Actor == "root@portico.example"
	}
	if err != nil || !audited {
		t.Fatalf("attach not audited: %v", err)
	}

	// The wrong kind is refused with a clear message; nothing changes.
	r = admin.Post("/apps/wiki/policy", url.Values{"policy": {m2m.Policy.ID}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "kind does not fit this app") || attached("wiki") != ua.Policy.ID {
		t.Fatalf("wrong kind: %d, attached %q\n%s", r.StatusCode, attached("wiki"), r.Body)
	}

	// "none" detaches.
	if r = admin.Post("/apps/wiki/policy", url.Values{"policy": {""}}); r.StatusCode != http.StatusSeeOther || attached("wiki") != "" {
		t.Fatalf("detach: %d, attached %q", r.StatusCode, attached("wiki"))
	}

	// An org admin sees the policy read-only and may not change it.
	if err := w.h.Store.CreateClient(ctx, &store.Client{OrgID: w.acme.ID, ClientID: "dev-portal", Name: "Dev portal",
		Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, actor, ua.Policy.ID, policyeditor.Target{ClientID: "dev-portal"}); err != nil {
		t.Fatal(err)
	}
	d = doc(t, acmeAdmin.Get("/apps/dev-portal").Body)
	if d.Find("#app-policy-select").Length() != 0 || !strings.Contains(d.Find("#app-policy-current").Text(), "Development portal access") {
		t.Fatalf("org admin's view: %q", d.Find("#app-policy").Text())
	}
	if r = acmeAdmin.Post("/apps/dev-portal/policy", url.Values{"policy": {""}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("org admin detach: %d", r.StatusCode)
	}
	cl, _ := w.h.Store.ClientByClientID(ctx, w.acme.ID, "dev-portal")
	if cl.PolicyID != ua.Policy.ID {
		t.Fatal("a refused detach changed the app")
	}
}

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

// TestPolicyChosenAtRegistration: a platform admin picks the access policy
// in the wizard and the new app has it; a policy of the wrong kind, or any
// policy from someone who may not attach one, is refused before anything is
// registered.
func TestPolicyChosenAtRegistration(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	svc := &policyeditor.Service{Store: w.h.Store}
	ua, err := svc.Import(ctx, store.Actor{Label: "test"}, []byte(ibmPolicy))
	if err != nil {
		t.Fatal(err)
	}
	m2m, err := svc.Import(ctx, store.Actor{Label: "test"}, []byte(`{"name":"Machines","kind":"machine_to_machine","rules":[],"default":"permit"}`))
	if err != nil {
		t.Fatal(err)
	}
	admin, dev := w.as(t, platformAdmin), w.as(t, developer)
	if d := doc(t, admin.Get("/apps/new?type=service").Body); d.Find("#app-policy option").Last().AttrOr("value", "") != m2m.Policy.ID {
		t.Fatal("the wizard does not offer the machine-to-machine policy for a service")
	}
	if d := doc(t, dev.Get("/apps/new?type=service").Body); d.Find("#app-policy").Length() != 0 {
		t.Fatal("a developer is offered a policy picker")
	}
	count := func(orgID string) int {
		cs, err := w.h.Store.Clients(ctx, orgID)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	before := count(w.staff.ID)
	if r := admin.Post("/apps", url.Values{"type": {"service"}, "name": {"Wrong kind"}, "policy": {ua.Policy.ID}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong kind: %d", r.StatusCode)
	}
	if r := dev.Post("/apps", url.Values{"type": {"service"}, "name": {"Sneaky"}, "scopes": {"payments:read"}, "policy": {m2m.Policy.ID}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a developer choosing a policy: %d", r.StatusCode)
	}
	if count(w.staff.ID) != before || count(w.acme.ID) != 0 {
		t.Fatal("a refused registration created an app")
	}
	r := admin.Post("/apps", url.Values{"type": {"service"}, "name": {"Governed"}, "policy": {m2m.Policy.ID}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("register with a policy: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	cs, _ := w.h.Store.Clients(ctx, w.staff.ID)
	var got store.Client
	for _, c := range cs {
		if c.Name == "Governed" {
			got = c
		}
	}
	if got.PolicyID != m2m.Policy.ID {
		t.Fatalf("the new app's policy is %q", got.PolicyID)
	}
}

// TestQuickStartShowsTheAppsValuesNotItsSecret: a service app's page shows
// the issuer, discovery URL, token endpoint, client ID and a curl and Go
// snippet with them; a web app's shows Go, Node and Python; the secret is
// in none of them, and values are HTML-escaped.
func TestQuickStartShowsTheAppsValuesNotItsSecret(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	clientID, secret := registerService(t, w, "Quick <b>start</b>")
	body := dev.Get("/apps/" + clientID).Body
	d := doc(t, body)
	issuer := strings.TrimRight(w.h.URL, "/")
	for sel, want := range map[string]string{"#qs-issuer": issuer, "#qs-discovery": issuer + "/.well-known/openid-configuration",
		"#qs-token": issuer + "/token", "#qs-client-id": clientID, "#qs-scopes": "payments:read"} {
		if got := d.Find(sel).Text(); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	curl := d.Find("#snippet-curl").Text()
	for _, want := range []string{"-u '" + clientID + `':"$CLIENT_SECRET"`, "grant_type=client_credentials", "scope='payments:read'", "'" + issuer + "/token'"} {
		if !strings.Contains(curl, want) {
			t.Errorf("curl snippet lacks %q:\n%s", want, curl)
		}
	}
	if goCode := d.Find("#snippet-go").Text(); !strings.Contains(goCode, `ClientID:     "`+clientID+`"`) || !strings.Contains(goCode, "clientcredentials") {
		t.Errorf("Go snippet:\n%s", goCode)
	}
	if strings.Contains(body, secret) {
		t.Fatal("the app page shows the secret")
	}
	if strings.Contains(body, "<b>start</b>") {
		t.Fatal("the app's name is not escaped")
	}

	r := revealed(t, dev, dev.Post("/apps", url.Values{"type": {"web"}, "name": {"Portal"},
		"redirect_uris": {"https://portal.acme.example/auth/callback"}, "scopes": {"openid", "email"}}))
	d = doc(t, r.Body)
	for id, want := range map[string]string{
		"#snippet-go":     `RedirectURL:  "https://portal.acme.example/auth/callback"`,
		"#snippet-node":   `redirect_uri: "https://portal.acme.example/auth/callback"`,
		"#snippet-python": `@app.route("/auth/callback")`,
	} {
		if code := d.Find(id).Text(); !strings.Contains(code, want) || !strings.Contains(code, `"openid email"`) && id != "#snippet-go" {
			t.Errorf("%s lacks %q or the scopes:\n%s", id, want, code)
		}
	}
	if s := d.Find("#client-secret").Text(); s == "" || strings.Contains(d.Find("#quickstart").Text(), s) {
		t.Error("the web app's secret is missing from the reveal or is in the quick start")
	}
}

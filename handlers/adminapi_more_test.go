package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"portico/authserver"
	"portico/federation"
	"portico/partners"
	"portico/store"
)

// adminAPIMoreIsolation adds the attempts on the rest of globex's
// resources (groups, logs, scopes, keys, registration tokens, users,
// connections, APIs, issuers, policies) to the isolation test.
func adminAPIMoreIsolation(t *testing.T, w *world) []attempt {
	t.Helper()
	ctx := context.Background()
	svc := &partners.Service{Store: w.h.Store, Now: w.clock.Now}
	gg, err := svc.CreateGroup(ctx, partners.CLIManager("test"), w.globex.ID, "globex-staff")
	if err != nil {
		t.Fatal(err)
	}
	gUser := w.users[otherOrgAdmin]
	g := "/orgs/globex"
	fed := &federation.Service{Store: w.h.Store, Sealer: w.h.Config.SignIn.Sealer, Registry: w.h.Config.SignIn.Registry, Now: w.clock.Now}
	name := "Globex sandbox"
	gx, err := fed.Create(ctx, store.Actor{Label: "test"}, w.globex.ID, federation.Input{Type: "sandbox", Name: &name,
		Settings: map[string]string{"users": "gus@globex.example | Gus"}, Secret: &name})
	if err != nil {
		t.Fatal(err)
	}
	gAPI, err := w.reg.CreateAPI(ctx, w.globex.ID, store.Actor{Label: "test"}, authserver.APIInput{Identifier: "https://api.globex.example",
		Name: "Globex API", Scopes: []store.APIScope{{Name: "globex:read"}}})
	if err != nil {
		t.Fatal(err)
	}
	gIss, err := w.oauth.Issuers().Create(ctx, w.globex.ID, store.Actor{Label: "test"}, authserver.IssuerInput{
		Issuer: "https://idp.globex.example", JWKSURI: "https://idp.globex.example/jwks", SubjectClaim: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	// After the attempts (cleanups run before the harness closes the
	// store): globex's API, issuer and connection are as they were.
	t.Cleanup(func() {
		if x, err := w.h.Store.API(ctx, w.globex.ID, gAPI.ID); err != nil || x.Name != "Globex API" {
			t.Errorf("globex's API changed: %+v %v", x, err)
		}
		if _, err := w.h.Store.API(ctx, "", gAPI.ID); err != nil {
			t.Errorf("globex's API is gone: %v", err)
		}
		if _, err := w.oauth.Issuers().Get(ctx, w.globex.ID, gIss.ID); err != nil {
			t.Errorf("globex's issuer is gone: %v", err)
		}
		if x, err := w.h.Store.Connection(ctx, w.globex.ID, gx.ID); err != nil || !x.Enabled {
			t.Errorf("globex's connection changed: %v", err)
		}
	})
	return []attempt{
		// Groups: globex's by its path, and its group ID under acme.
		{"GET", g + "/groups", nil, 404},
		{"POST", g + "/groups", map[string]any{"name": "x"}, 404},
		{"DELETE", "/orgs/acme/groups/" + gg.ID, nil, 404},
		{"GET", "/orgs/acme/groups/" + gg.ID + "/members", nil, 404},
		{"PUT", "/orgs/acme/groups/" + gg.ID + "/members/" + gUser.Email, nil, 404},
		// A globex user into an acme group: the user is no member of acme.
		{"DELETE", g + "/groups/" + gg.ID + "/members/" + gUser.ID, nil, 404},
		// Logs.
		{"GET", "/audit", nil, 403}, {"GET", g + "/audit", nil, 404},
		{"GET", "/decisions", nil, 403}, {"GET", g + "/decisions", nil, 404},
		// The authorization server's platform settings.
		{"POST", "/scopes", map[string]any{"name": "evil:all"}, 403},
		{"POST", "/keys/rotate", nil, 403},
		{"POST", g + "/registration-tokens", map[string]any{"description": "x"}, 404},
		// Users: globex's user ID under acme's path.
		{"POST", g + "/users", map[string]any{"email": "x@globex.example", "name": "X"}, 404},
		{"POST", "/orgs/acme/users/" + gUser.ID + "/reset-link", map[string]any{}, 404},
		{"PUT", "/orgs/acme/users/" + gUser.ID + "/attributes/tier", map[string]any{"value": "gold"}, 404},
		// Connections.
		{"GET", g + "/connections", nil, 404},
		{"POST", g + "/connections", map[string]any{"type": "sandbox", "name": "x"}, 404},
		{"PATCH", "/orgs/acme/connections/" + gx.ID, map[string]any{"enabled": false}, 404},
		// Trusted issuers.
		{"GET", g + "/issuers", nil, 404},
		{"GET", "/orgs/acme/issuers/" + gIss.ID, nil, 404},
		{"DELETE", "/orgs/acme/issuers/" + gIss.ID, nil, 404},
		{"POST", "/orgs/acme/issuers/" + gIss.ID + "/test", map[string]any{"token": "x"}, 404},
		// APIs: globex's by ID, and an API created "for" globex.
		{"GET", "/apis/" + gAPI.ID, nil, 404},
		{"PATCH", "/apis/" + gAPI.ID, map[string]any{"name": "Pwned"}, 404},
		{"DELETE", "/apis/" + gAPI.ID, nil, 404},
		{"POST", "/apis", map[string]any{"org": "globex", "identifier": "https://evil.example", "name": "x"}, 422},
		// Policies are the platform's.
		{"GET", "/policies", nil, 403},
		{"POST", "/policies", map[string]any{"name": "x"}, 403},
		{"PUT", "/policy-attachments", map[string]any{"policy": "x", "portal": true}, 403},
		{"POST", "/policies/eval", map[string]any{}, 403},
		{"POST", "/policies/x/replay", map[string]any{}, 403},
		{"PUT", "/policies/x/report-only", map[string]any{"version": 1}, 403},
		{"DELETE", "/policies/x/report-only", nil, 403},
		{"POST", "/policies/x/promote", map[string]any{"version": 1}, 403},
	}
}

// TestAdminAPIGroupsAndLogs: an organization's admin token manages its
// groups and reads its own audit log, where its changes carry its ID.
func TestAdminAPIGroupsAndLogs(t *testing.T) {
	w := newWorld(t)
	tok, rec := w.apiToken(t, w.acme, store.APIRoleAdmin)
	a := w.api(t, tok, http.MethodPost, "/orgs/acme/groups", map[string]any{"name": "contractors"})
	if a.Status != http.StatusCreated {
		t.Fatalf("create group: %d %s", a.Status, a.Raw)
	}
	id := a.Body["id"].(string)
	dev := w.users[developer]
	if a := w.api(t, tok, http.MethodPut, "/orgs/acme/groups/"+id+"/members/"+dev.ID, nil); a.Status != http.StatusOK {
		t.Fatalf("add member: %d %s", a.Status, a.Raw)
	}
	a = w.api(t, tok, http.MethodGet, "/orgs/acme/groups/"+id+"/members", nil)
	if items := a.Body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["email"] != dev.Email {
		t.Fatalf("group members: %s", a.Raw)
	}
	wantProblem(t, w.api(t, tok, http.MethodPut, "/orgs/acme/groups/"+id+"/members/nobody@acme.example", nil), http.StatusUnprocessableEntity)
	a = w.api(t, tok, http.MethodGet, "/orgs/acme/audit?q=api-token:"+rec.ID, nil)
	if a.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", a.Status, a.Raw)
	}
	actions := map[string]bool{}
	for _, it := range a.Body["items"].([]any) {
		actions[it.(map[string]any)["action"].(string)] = true
	}
	if !actions["group.create"] || !actions["group.add_member"] {
		t.Errorf("the token's changes are not in the audit log by its ID: %v", actions)
	}
	if a := w.api(t, tok, http.MethodGet, "/orgs/acme/decisions?action=deny", nil); a.Status != http.StatusOK {
		t.Errorf("decisions: %d %s", a.Status, a.Raw)
	}
	wantProblem(t, w.api(t, tok, http.MethodGet, "/orgs/acme/decisions?since=yesterday", nil), http.StatusBadRequest)
}

var apiTokenRE = regexp.MustCompile(`id="api-token">(ptc_[A-Za-z0-9_-]+)<`)

// TestAPITokenPage: an org admin makes a token on the page, sees it once,
// and it reaches their organization through the API and nothing else; a
// revoke on the page stops it at once.
func TestAPITokenPage(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, orgAdmin)
	r := admin.Post("/api-tokens", url.Values{"name": {"CRM sync"}, "role": {"admin"}, "days": {"30"},
		"org": {"globex"}}) // an org admin's org field is ignored: the token is acme's
	m := apiTokenRE.FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create: %d\n%s", r.StatusCode, r.Body)
	}
	tok := m[1]
	if a := w.api(t, tok, http.MethodGet, "/orgs/acme/members", nil); a.Status != http.StatusOK {
		t.Fatalf("the page's token on acme: %d %s", a.Status, a.Raw)
	}
	wantProblem(t, w.api(t, tok, http.MethodGet, "/orgs/globex/members", nil), http.StatusNotFound)
	list := admin.Get("/api-tokens")
	if strings.Contains(list.Body, tok) {
		t.Fatal("the list shows the token again")
	}
	rec, err := w.h.Store.APITokenByHash(context.Background(), partners.HashAPIToken(tok))
	if err != nil || rec.OrgID != w.acme.ID || rec.Role != store.APIRoleAdmin {
		t.Fatalf("stored: %+v %v", rec, err)
	}
	// globex's admin cannot revoke it; acme's can.
	if r := w.as(t, otherOrgAdmin).Post("/api-tokens/"+rec.ID+"/revoke", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("another org's admin revoked: %d", r.StatusCode)
	}
	if r := admin.Post("/api-tokens/"+rec.ID+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
	}
	wantProblem(t, w.api(t, tok, http.MethodGet, "/orgs/acme/members", nil), http.StatusUnauthorized)
	// A platform admin makes a platform token.
	r = w.as(t, platformAdmin).Post("/api-tokens", url.Values{"name": {"Billing"}, "role": {"read"}, "days": {"7"}})
	m = apiTokenRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("platform create: %d\n%s", r.StatusCode, r.Body)
	}
	if a := w.api(t, m[1], http.MethodGet, "/plans", nil); a.Status != http.StatusOK {
		t.Fatalf("platform token: %d %s", a.Status, a.Raw)
	}
}

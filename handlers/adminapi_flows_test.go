package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"portico/store"
)

// must fails the test unless a has status.
func must(t *testing.T, a apiAnswer, status int, what string) apiAnswer {
	t.Helper()
	if a.Status != status {
		t.Fatalf("%s: %d, want %d: %s", what, a.Status, status, a.Raw)
	}
	return a
}

// TestAdminAPIDoesWhatTheCLIDoes drives each resource kind through the API
// as a platform token, and checks that the change landed where the portal
// and the CLI would put it.
func TestAdminAPIDoesWhatTheCLIDoes(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, rec := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	call := func(method, path string, body any, status int, hdr ...string) apiAnswer {
		t.Helper()
		return must(t, w.api(t, tok, method, path, body, hdr...), status, method+" "+path)
	}

	// Plans and the partnership: a plan, an organization on it, ending soon.
	call("POST", "/plans", map[string]any{"slug": "silver", "name": "Silver",
		"features": []map[string]any{{"name": "reports", "scopes": []string{"reports:read"}, "app_types": []string{"service"}}}}, 201)
	call("PATCH", "/orgs/globex", map[string]any{"plan": "silver", "valid_until": "2030-06-30T00:00:00Z"}, 200)
	if o, _ := w.h.Store.Organization(ctx, w.globex.ID); o.PlanID == "" || o.ValidUntil.Year() != 2030 {
		t.Fatalf("org update did not land: %+v", o)
	}
	a := call("POST", "/orgs/globex/suspend", nil, 200)
	if a.Body["status"] != "suspended" {
		t.Fatalf("suspend: %s", a.Raw)
	}
	call("POST", "/orgs/globex/reactivate", nil, 200)

	// Apps: create (secret once), rotate, revoke the old secret, disable,
	// platform settings, shares.
	a = call("POST", "/orgs/acme/apps", map[string]any{"name": "Billing sync", "type": "service", "scopes": []string{"payments:read"}}, 201)
	clientID, _ := a.Body["client_id"].(string)
	if a.Body["client_secret"] == "" || clientID == "" {
		t.Fatalf("no secret: %s", a.Raw)
	}
	firstSecret := a.Body["secrets"].([]any)[0].(map[string]any)["id"].(string)
	app := "/orgs/acme/apps/" + clientID
	if _, shown := call("GET", app, nil, 200).Body["client_secret"]; shown {
		t.Error("GET shows a secret")
	}
	a = call("POST", app+"/secrets", map[string]any{"grace_seconds": 3600}, 201)
	if len(a.Body["secrets"].([]any)) != 2 {
		t.Fatalf("rotate: %s", a.Raw)
	}
	call("DELETE", app+"/secrets/"+firstSecret, nil, 200)
	a = call("PATCH", app, map[string]any{"name": "Billing sync v2"}, 200)
	if a.Body["name"] != "Billing sync v2" || a.Body["type"] != "service" {
		t.Fatalf("update app: %s", a.Raw)
	}
	wantProblem(t, w.api(t, tok, "PATCH", app, map[string]any{"type": "web"}), http.StatusUnprocessableEntity)
	wantProblem(t, w.api(t, tok, "PATCH", app, map[string]any{"scopes": []string{"not:registered"}}), http.StatusUnprocessableEntity)
	call("POST", app+"/disable", nil, 200)
	if cl, _ := w.h.Store.ClientByClientID(ctx, w.acme.ID, clientID); cl.Enabled {
		t.Error("disable did not land")
	}
	call("PATCH", app+"/platform-settings", map[string]any{"first_party": true}, 200)
	a = call("PUT", app+"/shares/plan:gold", nil, 200)
	if a.Body["shared_with"].([]any)[0] != "plan:gold" {
		t.Fatalf("share: %s", a.Raw)
	}
	call("DELETE", app+"/shares/plan:gold", nil, 200)
	call("DELETE", app, nil, 204)
	must(t, w.api(t, tok, "GET", app, nil), 404, "deleted app")

	// Members and invitations.
	dev := w.users[developer]
	a = call("PATCH", "/orgs/acme/members/"+dev.ID, map[string]any{"role": "member"}, 200)
	if a.Body["role"] != "member" {
		t.Fatalf("role: %s", a.Raw)
	}
	a = call("POST", "/orgs/acme/invitations", map[string]any{"email": "new@acme.example", "role": "developer"}, 201)
	invID := a.Body["id"].(string)
	a = call("GET", "/orgs/acme/invitations?q=new@", nil, 200)
	if len(a.Body["items"].([]any)) != 1 {
		t.Fatalf("invitations filter: %s", a.Raw)
	}
	call("DELETE", "/orgs/acme/invitations/"+invID, nil, 204)
	wantProblem(t, w.api(t, tok, "DELETE", "/orgs/acme/invitations/"+invID, nil), http.StatusUnprocessableEntity)
	call("DELETE", "/orgs/acme/members/"+w.users[member].ID, nil, 204)
	must(t, w.api(t, tok, "GET", "/orgs/acme/members/"+w.users[member].ID, nil), 404, "removed member")

	// Identity-pool users.
	a = call("POST", "/orgs/acme/users", map[string]any{"email": "pat@acme.example", "name": "Pat"}, 201)
	uid := a.Body["id"].(string)
	if len(a.Body["password"].(string)) < 12 {
		t.Fatalf("generated password: %s", a.Raw)
	}
	a = call("POST", "/orgs/acme/users/"+uid+"/reset-link", map[string]any{"expires_in_hours": 2}, 200)
	if !strings.Contains(a.Body["url"].(string), "/login/reset?token=") {
		t.Fatalf("reset link: %s", a.Raw)
	}
	a = call("PUT", "/orgs/acme/users/"+uid+"/attributes/assigned_customers", map[string]any{"value": "c-1, c-2"}, 200)
	if u, _ := w.h.Store.User(ctx, w.acme.ID, uid); u.Attributes["assigned_customers"] != "c-1,c-2" {
		t.Fatalf("attribute: %v", u.Attributes)
	}
	wantProblem(t, w.api(t, tok, "PUT", "/orgs/acme/users/"+uid+"/attributes/a=b", map[string]any{"value": "x"}), http.StatusUnprocessableEntity)

	// Connections: the secret goes in and never comes out.
	a = call("POST", "/orgs/acme/connections", map[string]any{"type": "sandbox", "name": "Acme sandbox",
		"settings": map[string]string{"users": "ada@acme.example | Ada"}, "secret": "s3cret-pw"}, 201)
	if a.Body["has_secret"] != true || strings.Contains(a.Raw, "s3cret-pw") {
		t.Fatalf("connection: %s", a.Raw)
	}
	cx := a.Body["id"].(string)
	call("PATCH", "/orgs/acme/connections/"+cx, map[string]any{"enabled": false}, 200)
	if x, _ := w.h.Store.Connection(ctx, w.acme.ID, cx); x.Enabled {
		t.Error("connection update did not land")
	}

	// Scopes, APIs, registration tokens, keys.
	call("POST", "/scopes", map[string]any{"name": "orders:read", "description": "read orders"}, 201)
	a = call("POST", "/apis", map[string]any{"org": "acme", "identifier": "https://api.acme.example/orders", "name": "Orders",
		"scopes": []map[string]string{{"name": "acme-orders:read"}}}, 201)
	apiID := a.Body["id"].(string)
	got := call("GET", "/apis/"+apiID, nil, 200)
	call("PATCH", "/apis/"+apiID, map[string]any{"description": "the orders API"}, 200, "If-Match", got.Header.Get("ETag"))
	if x, _ := w.h.Store.API(ctx, w.acme.ID, apiID); x.Description != "the orders API" || len(x.Scopes) != 1 {
		t.Fatalf("api update: %+v", x)
	}
	a = call("POST", "/orgs/acme/registration-tokens", map[string]any{"description": "CI", "max_uses": 1}, 201)
	if a.Body["token"] == "" {
		t.Fatalf("registration token: %s", a.Raw)
	}
	call("POST", "/keys/rotate", nil, 200)

	// Policies: import, export, attach, evaluate, list.
	pol := `{"name":"Contractors only","kind":"user_access","rules":[{"name":"Contractors","conditions":[{"type":"group","any_of":["contractors"]}],"action":"permit"}],"default":"deny"}`
	a = call("POST", "/policies", json.RawMessage(pol), 201)
	polID := a.Body["policy"].(map[string]any)["id"].(string)
	wantProblem(t, w.api(t, tok, "POST", "/policies", json.RawMessage(`{"name":"x","kind":"user_access","rules":[{"conditions":[{"type":"nope"}],"action":"permit"}],"default":"deny"}`)),
		http.StatusUnprocessableEntity)
	if a := call("GET", "/policies/Contractors only", nil, 200); !strings.Contains(a.Raw, "contractors") {
		t.Fatalf("export: %s", a.Raw)
	}
	call("PUT", "/policy-attachments", map[string]any{"policy": polID, "portal": true}, 200)
	a = call("GET", "/policies", nil, 200)
	if !strings.Contains(a.Raw, `"point":"portal"`) {
		t.Fatalf("policy usage: %s", a.Raw)
	}
	call("DELETE", "/policy-attachments", map[string]any{"portal": true}, 200)
	a = call("POST", "/policies/eval", map[string]any{"policy": json.RawMessage(pol),
		"request": json.RawMessage(`{"time":"2026-11-23T23:00:00Z","ip":"203.0.113.9","user":{"groups":["contractors"]}}`)}, 200)
	if a.Body["action"] != "permit" {
		t.Fatalf("eval: %s", a.Raw)
	}
	// Impact preview and report-only mode: a logged contractor's decision,
	// a stricter draft, then report-only and promote.
	cxJSON, _ := json.Marshal(map[string]any{"groups": []string{"contractors"}})
	if _, err := w.h.Store.InsertDecisions(ctx, []store.Decision{{At: time.Now().Add(-time.Minute), Point: "launch", Subject: "c@acme.example", ClientID: "wiki",
		Context: cxJSON, PolicyID: polID, PolicyVersion: 1, Rule: 1, Action: "permit", Reason: "r"}}); err != nil {
		t.Fatal(err)
	}
	strict := strings.Replace(pol, `"action":"permit"`, `"action":"challenge"`, 1)
	a = call("POST", "/policies/"+polID+"/replay", map[string]any{"document": json.RawMessage(strict), "days": 1}, 200)
	if a.Body["replayed"] != float64(1) || a.Body["changed"] != float64(1) || !strings.Contains(a.Raw, `"from":"permit","to":"challenge"`) {
		t.Fatalf("replay: %s", a.Raw)
	}
	call("POST", "/policies/"+polID+"/replay", map[string]any{"days": 0, "version": 1, "document": json.RawMessage(strict)}, 422)
	a = call("PUT", "/policies/"+polID+"/report-only", map[string]any{"document": json.RawMessage(strict)}, 200)
	if a.Body["shadow_version"] != float64(2) || a.Body["current_version"] != float64(1) {
		t.Fatalf("report-only: %s", a.Raw)
	}
	call("POST", "/policies/"+polID+"/promote", map[string]any{"version": 1}, 409)
	a = call("POST", "/policies/"+polID+"/promote", map[string]any{"version": 2}, 200)
	if a.Body["current_version"] != float64(2) {
		t.Fatalf("promote: %s", a.Raw)
	}
	call("PUT", "/policies/"+polID+"/report-only", map[string]any{"version": 1}, 200)
	if a = call("DELETE", "/policies/"+polID+"/report-only", nil, 200); a.Body["shadow_version"] != nil {
		t.Fatalf("detach report-only: %s", a.Raw)
	}

	// Tokens: list, and the logs show this token's work.
	a = call("GET", "/tokens", nil, 200)
	if !strings.Contains(a.Raw, rec.ID) || strings.Contains(a.Raw, tok) {
		t.Fatalf("token list: %s", a.Raw)
	}
	a = call("GET", "/audit?q=api-token:"+rec.ID+"&limit=500", nil, 200)
	for _, want := range []string{"plan.create", "org.update", "client.create", "member.invite", "policy.attach", "api.call"} {
		if !strings.Contains(a.Raw, `"action":"`+want+`"`) {
			t.Errorf("audit by the token lacks %s", want)
		}
	}
	call("GET", "/decisions?limit=5", nil, 200)
}

// TestAdminAPIIdempotentSecretsAreNotKept: a create whose answer shows a
// secret once is not repeated by its Idempotency-Key, and its answer is not
// stored: the repeat gets 409 with the Location, and no second app exists.
func TestAdminAPIIdempotentSecretsAreNotKept(t *testing.T) {
	w := newWorld(t)
	tok, rec := w.apiToken(t, w.acme, store.APIRoleAdmin)
	body := map[string]any{"name": "Once", "type": "service"}
	first := must(t, w.api(t, tok, "POST", "/orgs/acme/apps", body, "Idempotency-Key", "app-1"), 201, "create")
	secret, _ := first.Body["client_secret"].(string)
	if secret == "" {
		t.Fatalf("no secret: %s", first.Raw)
	}
	again := w.api(t, tok, "POST", "/orgs/acme/apps", body, "Idempotency-Key", "app-1")
	wantProblem(t, again, http.StatusConflict)
	if again.Header.Get("Location") != first.Header.Get("Location") || strings.Contains(again.Raw, secret) {
		t.Fatalf("repeat: %v %s", again.Header, again.Raw)
	}
	_, stored, err := w.h.Store.ReserveIdempotencyKey(context.Background(), rec.ID, "app-1", store.IdempotentResponse{}, w.clock.Now())
	if err != nil || strings.Contains(string(stored.Body), secret) {
		t.Fatalf("the secret was stored: %v", err)
	}
	a := must(t, w.api(t, tok, "GET", "/orgs/acme/apps?q=Once", nil), 200, "list")
	if n := len(a.Body["items"].([]any)); n != 1 {
		t.Fatalf("%d apps named Once", n)
	}
}

package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/handlers/adminapi"
	"portico/partners"
	"portico/store"
)

// apiAnswer is one admin API response.
type apiAnswer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// api sends one admin API request with token as the bearer credential
// ("" for none). hdr is pairs of header names and values.
func (w *world) api(t *testing.T, token, method, path string, body any, hdr ...string) apiAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.h.URL+adminapi.Prefix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := apiAnswer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	json.Unmarshal(raw, &a.Body)
	return a
}

// apiToken makes an admin API token through the partners service, as the
// CLI does.
func (w *world) apiToken(t *testing.T, org store.Organization, role store.APITokenRole) (string, store.APIToken) {
	t.Helper()
	nt, err := (&partners.Service{Store: w.h.Store, Now: w.clock.Now}).CreateAPIToken(context.Background(),
		partners.CLIManager("test"), partners.APITokenInput{Name: "test " + string(role), OrgID: org.ID, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return nt.Secret, nt.Token
}

func wantProblem(t *testing.T, a apiAnswer, status int) {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %s", a.Status, status, a.Raw)
	}
	if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, a.Raw)
	}
	if a.Body["status"] != float64(status) || a.Body["title"] == "" || a.Body["type"] == nil {
		t.Fatalf("not an RFC 9457 problem: %s", a.Raw)
	}
}

// TestAdminAPIDocumentMatchesRouter: the OpenAPI document lists every
// admin API route the portal serves, and serves every route it lists.
func TestAdminAPIDocumentMatchesRouter(t *testing.T) {
	w := newWorld(t)
	doc := w.api(t, "", http.MethodGet, "/openapi.json", nil)
	if doc.Status != http.StatusOK || doc.Body["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %d %.300s", doc.Status, doc.Raw)
	}
	documented := map[string]bool{}
	paths, _ := doc.Body["paths"].(map[string]any)
	for p, ops := range paths {
		for m, op := range ops.(map[string]any) {
			if op.(map[string]any)["operationId"] == "" {
				t.Errorf("%s %s has no operationId", m, p)
			}
			documented[strings.ToUpper(m)+" "+adminapi.Prefix+echoPath(p)] = true
		}
	}
	served := map[string]bool{}
	for _, r := range w.echo(t).Routes() {
		if !strings.HasPrefix(r.Path, adminapi.Prefix+"/") || strings.HasSuffix(r.Path, "/*") || r.Method == "RouteNotFound" {
			continue
		}
		served[r.Method+" "+r.Path] = true
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("%s is served but not documented", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("%s is documented but not served", k)
		}
	}
	if len(served) < 30 {
		t.Fatalf("only %d routes: the test is not seeing the API", len(served))
	}
	// Every $ref points at a schema the document has.
	schemas := doc.Body["components"].(map[string]any)["schemas"].(map[string]any)
	for _, ref := range refsIn(doc.Body) {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if _, ok := schemas[name]; !ok {
			t.Errorf("$ref %s has no schema", ref)
		}
	}
}

// echoPath turns /orgs/{org} into /orgs/:org.
func echoPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			parts[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(parts, "/")
}

func refsIn(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = append(out, refsIn(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, refsIn(e)...)
		}
	}
	return out
}

// TestAdminAPIIgnoresSessionCookies: a platform admin's signed-in browser,
// with its CSRF token and the portal's own Origin, gets 401 from every
// admin API route: the API reads the Authorization header only, which is
// why it is exempt from CSRF.
func TestAdminAPIIgnoresSessionCookies(t *testing.T) {
	w := newWorld(t)
	b := w.as(t, platformAdmin)
	token := b.CSRF()
	n := 0
	for _, r := range w.echo(t).Routes() {
		if !strings.HasPrefix(r.Path, adminapi.Prefix+"/") || r.Path == adminapi.Prefix+"/openapi.json" ||
			strings.HasSuffix(r.Path, "/*") || r.Method == "RouteNotFound" {
			continue
		}
		n++
		path := strings.ReplaceAll(sweepPath(r.Path), "sweep-x", "acme")
		req, _ := http.NewRequest(r.Method, w.h.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", token)
		req.Header.Set("Origin", w.h.URL)
		resp, err := b.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s %s with a session cookie: %d %s, want a 401 problem", r.Method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if n < 30 {
		t.Fatalf("only %d routes swept", n)
	}
}

// TestAdminAPITokens: a token works until it expires or is revoked; a
// read token cannot write; unknown tokens and missing headers are 401
// problems with a challenge; every use is audited with the token's ID.
func TestAdminAPITokens(t *testing.T) {
	w := newWorld(t)
	wantProblem(t, w.api(t, "", http.MethodGet, "/orgs", nil), http.StatusUnauthorized)
	a := w.api(t, "ptc_notatoken", http.MethodGet, "/orgs", nil)
	wantProblem(t, a, http.StatusUnauthorized)
	if !strings.Contains(a.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("WWW-Authenticate %q", a.Header.Get("WWW-Authenticate"))
	}
	wantProblem(t, w.api(t, "", http.MethodGet, "/no-such-route", nil), http.StatusNotFound)

	admin, tok := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	reader, _ := w.apiToken(t, store.Organization{}, store.APIRoleRead)
	if a := w.api(t, reader, http.MethodGet, "/orgs", nil); a.Status != http.StatusOK {
		t.Fatalf("read token list: %d %s", a.Status, a.Raw)
	}
	wantProblem(t, w.api(t, reader, http.MethodPost, "/orgs", map[string]any{"slug": "initech", "name": "Initech"}), http.StatusForbidden)
	if _, err := w.h.Store.OrganizationBySlug(context.Background(), "initech"); err == nil {
		t.Fatal("a read token created an organization")
	}
	a = w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": "initech", "name": "Initech", "domains": []string{"initech.example"}})
	if a.Status != http.StatusCreated || a.Header.Get("Location") != adminapi.Prefix+"/orgs/initech" {
		t.Fatalf("create org: %d %s %s", a.Status, a.Header.Get("Location"), a.Raw)
	}
	// Validation comes from the partners service, per field.
	a = w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": "Bad Slug!", "name": "X"})
	wantProblem(t, a, http.StatusUnprocessableEntity)
	if errs, _ := a.Body["errors"].(map[string]any); errs["slug"] == nil {
		t.Errorf("no slug error: %s", a.Raw)
	}
	wantProblem(t, w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": "x", "nmae": "typo"}), http.StatusBadRequest)

	// The change and each use are audited with the token's ID.
	events, err := w.h.Store.AuditEvents(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var created, uses int
	for _, e := range events {
		if e.Actor == "api-token:"+tok.ID {
			switch e.Action {
			case "org.create":
				created++
			case "api.call":
				uses++
			}
		}
	}
	if created != 1 || uses < 3 {
		t.Errorf("audit by api-token:%s: %d org.create, %d api.call", tok.ID, created, uses)
	}

	// Revoked and expired tokens stop.
	if _, err := (&partners.Service{Store: w.h.Store, Now: w.clock.Now}).RevokeAPIToken(context.Background(), partners.CLIManager("test"), tok.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, admin, http.MethodGet, "/orgs", nil), http.StatusUnauthorized)
	w.clock.Advance(partners.DefaultAPITokenTTL + time.Minute)
	wantProblem(t, w.api(t, reader, http.MethodGet, "/orgs", nil), http.StatusUnauthorized)
}

// attempt is one request of the isolation test and the status it must get.
type attempt struct {
	method, path string
	body         any
	want         int
}

// TestAdminAPIOrgTokenStaysInItsOrganization tries, as an attacker holding
// acme's admin token would, every resource kind of globex: by globex's
// slug and ID in paths, by globex's object IDs under acme's paths, and by
// globex's IDs in bodies. Each is refused, and globex is unchanged.
func TestAdminAPIOrgTokenStaysInItsOrganization(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	acmeTok, _ := w.apiToken(t, w.acme, store.APIRoleAdmin)
	_, globexTok := w.apiToken(t, w.globex, store.APIRoleAdmin)
	gApp, _, err := w.reg.Register(ctx, w.globex.ID, authserver.Actor{Label: "test"},
		authserver.RegisterInput{Name: "Globex sync", Type: store.ClientService})
	if err != nil {
		t.Fatal(err)
	}
	gInv, err := (&partners.Service{Store: w.h.Store, Now: w.clock.Now}).Invite(ctx, partners.CLIManager("test"), w.globex.ID,
		partners.InviteInput{Email: "new@globex.example", Role: store.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	gUser := w.users[otherOrgAdmin]
	secretID := gApp.Secrets[0].ID

	// The acme token works on acme.
	if a := w.api(t, acmeTok, http.MethodGet, "/orgs/acme/members", nil); a.Status != http.StatusOK {
		t.Fatalf("own members: %d %s", a.Status, a.Raw)
	}
	if a := w.api(t, acmeTok, http.MethodGet, "/orgs", nil); a.Status != http.StatusOK ||
		len(a.Body["items"].([]any)) != 1 || a.Body["items"].([]any)[0].(map[string]any)["slug"] != "acme" {
		t.Fatalf("a scoped token's org list: %d %s", a.Status, a.Raw)
	}

	g, gid := "/orgs/globex", "/orgs/"+w.globex.ID
	cases := []attempt{
		// Organizations.
		{"GET", g, nil, 404}, {"GET", gid, nil, 404},
		{"PATCH", g, map[string]any{"name": "Pwned"}, 403},
		{"POST", g + "/suspend", nil, 403},
		{"PATCH", "/orgs/acme", map[string]any{"plan": ""}, 403}, // its own plan is the platform's to set
		{"POST", "/orgs", map[string]any{"slug": "evil", "name": "Evil"}, 403},
		{"PUT", g + "/client-metadata", map[string]any{"allow": true}, 404},
		// Plans are the platform's.
		{"GET", "/plans", nil, 403}, {"PATCH", "/plans/gold", map[string]any{"name": "x"}, 403},
		// Members.
		{"GET", g + "/members", nil, 404}, {"GET", gid + "/members", nil, 404},
		{"GET", "/orgs/acme/members/" + gUser.ID, nil, 404},
		{"PATCH", "/orgs/acme/members/" + gUser.ID, map[string]any{"role": "member"}, 404},
		{"DELETE", "/orgs/acme/members/" + gUser.ID, nil, 404},
		{"DELETE", g + "/members/" + gUser.ID, nil, 404},
		// Invitations.
		{"GET", g + "/invitations", nil, 404},
		{"POST", g + "/invitations", map[string]any{"email": "x@globex.example"}, 404},
		{"DELETE", "/orgs/acme/invitations/" + gInv.Invitation.ID, nil, 404},
		{"DELETE", g + "/invitations/" + gInv.Invitation.ID, nil, 404},
		// Apps and secrets.
		{"GET", g + "/apps", nil, 404},
		{"POST", g + "/apps", map[string]any{"name": "x", "type": "service"}, 404},
		{"GET", "/orgs/acme/apps/" + gApp.ClientID, nil, 404},
		{"PATCH", "/orgs/acme/apps/" + gApp.ClientID, map[string]any{"name": "Pwned"}, 404},
		{"DELETE", "/orgs/acme/apps/" + gApp.ClientID, nil, 404},
		{"POST", "/orgs/acme/apps/" + gApp.ClientID + "/secrets", map[string]any{}, 404},
		{"DELETE", "/orgs/acme/apps/" + gApp.ClientID + "/secrets/" + secretID, nil, 404},
		{"POST", "/orgs/acme/apps/" + gApp.ClientID + "/disable", nil, 404},
		{"GET", "/orgs/acme/apps/" + gApp.ClientID + "/shares", nil, 404},
		{"PUT", "/orgs/acme/apps/" + gApp.ClientID + "/shares/all", nil, 403},
		{"PATCH", "/orgs/acme/apps/" + gApp.ClientID + "/platform-settings", map[string]any{"first_party": true}, 403},
		// Tokens: another organization's in the path, the query and the body.
		{"GET", "/tokens?org=globex", nil, 404},
		{"DELETE", "/tokens/" + globexTok.ID, nil, 404},
		{"POST", "/tokens", map[string]any{"name": "x", "role": "admin", "org": "globex"}, 422},
		{"POST", "/tokens", map[string]any{"name": "x", "role": "admin", "org": w.globex.ID}, 422},
		{"POST", "/tokens", map[string]any{"name": "x", "role": "admin", "client_id": gApp.ClientID}, 422},
	}
	cases = append(cases, adminAPIMoreIsolation(t, w)...)
	for _, c := range cases {
		a := w.api(t, acmeTok, c.method, c.path, c.body)
		if a.Status != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, a.Status, c.want, a.Raw)
		}
	}
	// Nothing of globex changed.
	if o, _ := w.h.Store.Organization(ctx, w.globex.ID); o.Name != w.globex.Name || o.Status != store.OrgActive {
		t.Errorf("globex changed: %+v", o)
	}
	if u, err := w.h.Store.User(ctx, w.globex.ID, gUser.ID); err != nil || u.Role != store.RoleAdmin {
		t.Errorf("globex's admin changed: %v %v", u.Role, err)
	}
	if cl, err := w.h.Store.ClientByClientID(ctx, w.globex.ID, gApp.ClientID); err != nil || cl.Name != "Globex sync" ||
		!cl.Enabled || len(cl.Secrets) != 1 {
		t.Errorf("globex's app changed: %+v %v", cl, err)
	}
	if i, _ := w.h.Store.Invitation(ctx, w.globex.ID, gInv.Invitation.ID); !i.RevokedAt.IsZero() {
		t.Error("globex's invitation was revoked")
	}
	if tk, _ := w.h.Store.APIToken(ctx, "", globexTok.ID); !tk.RevokedAt.IsZero() {
		t.Error("globex's token was revoked")
	}
}

// TestAdminAPIIdempotencyAndETags: a create repeated with the same
// Idempotency-Key replays the first answer and creates once; the same key
// with another body is 422. An update with a stale If-Match is 412 and
// changes nothing; with the current ETag it goes through.
func TestAdminAPIIdempotencyAndETags(t *testing.T) {
	w := newWorld(t)
	admin, _ := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	body := map[string]any{"slug": "initech", "name": "Initech"}
	first := w.api(t, admin, http.MethodPost, "/orgs", body, "Idempotency-Key", "k-1")
	again := w.api(t, admin, http.MethodPost, "/orgs", body, "Idempotency-Key", "k-1")
	if first.Status != http.StatusCreated || again.Status != http.StatusCreated || first.Raw != again.Raw {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Raw, again.Status, again.Raw)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Errorf("replay headers: %v", again.Header)
	}
	wantProblem(t, w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": "initech2", "name": "Other"},
		"Idempotency-Key", "k-1"), http.StatusUnprocessableEntity)
	if _, err := w.h.Store.OrganizationBySlug(context.Background(), "initech2"); err == nil {
		t.Error("a reused key with another body created an organization")
	}
	// Without a key a repeat is a conflict: the org exists.
	if a := w.api(t, admin, http.MethodPost, "/orgs", body); a.Status != http.StatusUnprocessableEntity && a.Status != http.StatusConflict {
		t.Errorf("second create without a key: %d %s", a.Status, a.Raw)
	}
	// The key expires.
	w.clock.Advance(adminapi.IdempotencyTTL + time.Minute)
	if a := w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": "initech3", "name": "Three"},
		"Idempotency-Key", "k-1"); a.Status != http.StatusCreated {
		t.Errorf("an expired key: %d %s", a.Status, a.Raw)
	}

	got := w.api(t, admin, http.MethodGet, "/orgs/initech", nil)
	etag := got.Header.Get("ETag")
	if got.Status != http.StatusOK || etag == "" {
		t.Fatalf("get: %d etag %q", got.Status, etag)
	}
	wantProblem(t, w.api(t, admin, http.MethodPatch, "/orgs/initech", map[string]any{"name": "Stale"},
		"If-Match", `"0000"`), http.StatusPreconditionFailed)
	upd := w.api(t, admin, http.MethodPatch, "/orgs/initech", map[string]any{"name": "Initech Ltd", "valid_until": "2031-01-01"},
		"If-Match", etag)
	if upd.Status != http.StatusOK || upd.Body["name"] != "Initech Ltd" || upd.Header.Get("ETag") == etag {
		t.Fatalf("update: %d %s", upd.Status, upd.Raw)
	}
	wantProblem(t, w.api(t, admin, http.MethodPatch, "/orgs/initech", map[string]any{"name": "Late"},
		"If-Match", etag), http.StatusPreconditionFailed)
}

// TestAdminAPIPages walks a list page by page with the cursors.
func TestAdminAPIPages(t *testing.T) {
	w := newWorld(t)
	admin, _ := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	for _, s := range []string{"p1", "p2", "p3", "p4"} {
		if a := w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": s, "name": "Page " + s}); a.Status != http.StatusCreated {
			t.Fatal(a.Raw)
		}
	}
	var seen []string
	path := "/orgs?limit=2"
	for i := 0; path != "" && i < 10; i++ {
		a := w.api(t, admin, http.MethodGet, path, nil)
		if a.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, a.Status, a.Raw)
		}
		for _, it := range a.Body["items"].([]any) {
			seen = append(seen, it.(map[string]any)["slug"].(string))
		}
		path = ""
		if n, _ := a.Body["next"].(string); n != "" {
			path = "/orgs?limit=2&after=" + url.QueryEscape(n)
			if !strings.Contains(a.Header.Get("Link"), `rel="next"`) {
				t.Errorf("no Link next header")
			}
		}
	}
	sort.Strings(seen)
	if want := []string{"acme", "globex", "p1", "p2", "p3", "p4", "staff"}; !slices.Equal(seen, want) {
		t.Errorf("walked %v, want %v", seen, want)
	}
	// Filtering by prefix.
	a := w.api(t, admin, http.MethodGet, "/orgs?q=Page", nil)
	if n := len(a.Body["items"].([]any)); n != 4 {
		t.Errorf("q=Page found %d", n)
	}
	wantProblem(t, w.api(t, admin, http.MethodGet, "/orgs?after=garbage", nil), http.StatusBadRequest)
	wantProblem(t, w.api(t, admin, http.MethodGet, "/orgs?limit=0", nil), http.StatusBadRequest)
}

// TestAdminAPIClientCredentials: a service app's client-credentials token
// with portico:admin reaches the API only once a platform admin grants the
// client, only within the grant's organization, and stops when the app is
// disabled or the grant revoked.
func TestAdminAPIClientCredentials(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.reg.CreateScope(ctx, authserver.Actor{Label: "test"}, adminapi.AdminScope, "the admin API"); err != nil {
		t.Fatal(err)
	}
	// globex has no plan, so its apps may hold any registered scope.
	cl, secret, err := w.reg.Register(ctx, w.globex.ID, authserver.Actor{Label: "test"},
		authserver.RegisterInput{Name: "Globex provisioning", Type: store.ClientService, Scopes: []string{adminapi.AdminScope}})
	if err != nil {
		t.Fatal(err)
	}
	token := func() string {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {adminapi.AdminScope}}
		req, _ := http.NewRequest(http.MethodPost, w.h.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(cl.ClientID), url.QueryEscape(secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		if out.AccessToken == "" {
			t.Fatalf("no access token: %d", resp.StatusCode)
		}
		return out.AccessToken
	}
	at := token()
	wantProblem(t, w.api(t, at, http.MethodGet, "/orgs/globex", nil), http.StatusForbidden) // no grant yet
	svc := &partners.Service{Store: w.h.Store, Now: w.clock.Now}
	// A grant of globex's client to acme is refused: its developers would
	// hold a key to another organization.
	if _, err := svc.CreateAPIToken(ctx, partners.CLIManager("test"), partners.APITokenInput{Name: "x", OrgID: w.acme.ID,
		Role: store.APIRoleAdmin, ClientID: cl.ClientID}); err == nil {
		t.Fatal("granted a client to another organization")
	}
	g, err := svc.CreateAPIToken(ctx, partners.CLIManager("test"), partners.APITokenInput{Name: "provisioning", OrgID: w.globex.ID,
		Role: store.APIRoleAdmin, ClientID: cl.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	if g.Secret != "" {
		t.Error("a client grant has a secret")
	}
	if a := w.api(t, at, http.MethodGet, "/orgs/globex", nil); a.Status != http.StatusOK {
		t.Fatalf("granted: %d %s", a.Status, a.Raw)
	}
	wantProblem(t, w.api(t, at, http.MethodGet, "/orgs/acme", nil), http.StatusNotFound)
	a := w.api(t, at, http.MethodPost, "/orgs/globex/invitations", map[string]any{"email": "new@globex.example"})
	if a.Status != http.StatusCreated || !strings.Contains(a.Body["link"].(string), "/invite/") {
		t.Fatalf("invite: %d %s", a.Status, a.Raw)
	}
	events, _ := w.h.Store.AuditEvents(ctx, store.AuditFilter{})
	found := false
	for _, e := range events {
		found = found || (e.Action == "member.invite" && strings.Contains(e.Actor, g.Token.ID))
	}
	if !found {
		t.Error("the invitation's audit event does not name the grant")
	}
	// Disabling the app stops its token at once.
	if _, err := w.reg.SetEnabled(ctx, w.globex.ID, cl.ClientID, authserver.Actor{Label: "test"}, false); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, at, http.MethodGet, "/orgs/globex", nil), http.StatusUnauthorized)
	if _, err := w.reg.SetEnabled(ctx, w.globex.ID, cl.ClientID, authserver.Actor{Label: "test"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeAPIToken(ctx, partners.CLIManager("test"), g.Token.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, token(), http.MethodGet, "/orgs/globex", nil), http.StatusForbidden)
}

package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portico/authserver"
	"portico/federation/federationtest"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/policyeditor"
	"portico/scim"
	"portico/store"
)

const contractorsPolicy = `{"name":"Contractors only","kind":"user_access",
  "rules":[{"name":"Contractors","conditions":[{"type":"group","any_of":["contractors"]}],"action":"permit"}],
  "default":"deny"}`

var scimTokenRE = regexp.MustCompile(`id="scim-token">([^<]+)<`)

// scimCall sends one SCIM request to the portal with the bearer token.
func scimCall(t *testing.T, base, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, base+"/scim/v2/acme"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// TestDirectoryDeactivationEndsAccessAtOnce is issue 16's done-when for
// directory sync: the org admin creates a SCIM token on the directory-sync
// page; the directory provisions a user into a group; the user signs in
// through the organization's OIDC connection (matched by the directory's
// externalId) and launches an app that the group permits, and gets a
// refresh token from it; the directory deactivates the user; the next token
// refresh and the next launch fail at once.
func TestDirectoryDeactivationEndsAccessAtOnce(t *testing.T) {
	ctx := context.Background()
	var srv *authserver.Server
	var err error
	p := newSignInPortal(t, func(c *handlers.Config) {
		srv, err = authserver.New(authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: c.SignIn.Sealer,
			AllowInsecure: true, CacheRevalidate: -1, Now: c.Now,
			LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) }})
		if err != nil {
			t.Fatal(err)
		}
		c.OAuth = srv
		c.SignIn.Completer = completer{srv}
		c.Policies = policyeditor.NewEngine(c.Store, nil)
		dir, err := scim.New(context.Background(), c.Store, c.Issuer, c.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		c.SCIM = dir
	})
	acme := p.Org(t, "acme", "acme.example")
	p.User(t, acme, "admin@acme.example", store.RoleAdmin, pw)
	app, secret, err := srv.Registrar().Register(ctx, acme.ID, authserver.Actor{Label: "test"},
		authserver.RegisterInput{Name: "Wiki", Type: store.ClientWeb, RedirectURIs: []string{"https://wiki.acme.example/cb"},
			LaunchURL: "https://wiki.acme.example/login", GrantTypes: []string{"authorization_code", "refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	// The organization's own wiki: first party, so no consent step.
	if app, err = srv.Registrar().SetFirstParty(ctx, acme.ID, app.ClientID, authserver.Actor{Label: "test"}, true); err != nil {
		t.Fatal(err)
	}
	pol := &policyeditor.Service{Store: p.Store}
	saved, err := pol.Import(ctx, store.Actor{Label: "test"}, []byte(contractorsPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := pol.Attach(ctx, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: app.ClientID}); err != nil {
		t.Fatal(err)
	}

	// The org admin creates the token: shown once, on the page the POST returns.
	admin := p.Client(t)
	admin.Login("admin@acme.example", pw)
	r := admin.Post("/org/scim/token", nil)
	m := scimTokenRE.FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || m == nil || !strings.Contains(r.Body, p.URL+"/scim/v2/acme") {
		t.Fatalf("token page: %d", r.StatusCode)
	}
	token := m[1]
	if again := admin.Get("/org/scim"); strings.Contains(again.Body, token) {
		t.Fatal("the token is shown again")
	}

	// The organization signs in through its Okta (the admin's session,
	// opened with a password before, stays).
	op := federationtest.NewOP(t, "portico-acme", "acme-secret", federationtest.Claims{
		Subject: "00u1okta", Email: "pat@acme.example", EmailVerified: true, Name: "Pat"})
	p.connection(t, acme, "oidc", "Acme Okta", "acme-secret", map[string]string{"issuer": op.URL, "client_id": "portico-acme"})

	// The directory provisions Pat into contractors.
	code, out := scimCall(t, p.URL, token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"pat@acme.example","externalId":"00u1okta","name":{"givenName":"Pat","familyName":"Lee"},
		"emails":[{"primary":true,"value":"pat@acme.example","type":"work"}],"active":true}`)
	if code != http.StatusCreated {
		t.Fatalf("create user: %d %v", code, out)
	}
	uid := out["id"].(string)
	code, out = scimCall(t, p.URL, token, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName":"contractors","members":[{"value":"`+uid+`"}]}`)
	if code != http.StatusCreated {
		t.Fatalf("create group: %d %v", code, out)
	}

	// Pat signs in through the connection and is the provisioned user.
	pat := p.Client(t)
	cb := p.federatedSignIn(t, pat, "pat@acme.example")
	cb.Body.Close()
	if cb.StatusCode != http.StatusSeeOther {
		t.Fatalf("federated sign-in: %d", cb.StatusCode)
	}
	u, err := p.Store.UserByEmail(ctx, acme.ID, "pat@acme.example")
	if err != nil || u.ID != uid || !slices.Equal(u.Groups(), []string{"contractors"}) {
		t.Fatalf("signed-in user %+v %v, want id %s in contractors", u, err, uid)
	}
	launch := func() handlerstest.Response { return pat.Get("/launch/" + app.ClientID) }
	if r := launch(); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "https://wiki.acme.example/login") {
		t.Fatalf("launch as a contractor: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	refresh := codeFlowRefreshToken(t, p.URL, pat, app.ClientID, secret)
	status, body := tokenCall(t, p.URL, app.ClientID, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if status != http.StatusOK || body["refresh_token"] == nil {
		t.Fatalf("refresh before deactivation: %d %v", status, body)
	}
	refresh = body["refresh_token"].(string)

	// The directory deactivates Pat (Entra ID's shape).
	code, out = scimCall(t, p.URL, token, "PATCH", "/Users/"+uid,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	if code != http.StatusOK {
		t.Fatalf("deactivate: %d %v", code, out)
	}
	if status, body := tokenCall(t, p.URL, app.ClientID, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after deactivation: %d %v", status, body)
	}
	if r := launch(); r.StatusCode == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "https://wiki.acme.example") {
		t.Fatal("launch still works after deactivation")
	}
	// Signing in again is refused too.
	cb = p.federatedSignIn(t, p.Client(t), "pat@acme.example")
	cb.Body.Close()
	if cb.StatusCode == http.StatusSeeOther && cb.Header.Get("Location") == "/" {
		t.Fatal("a deactivated user signed in again")
	}
	// The page shows the sync events.
	if r := admin.Get("/org/scim"); !strings.Contains(r.Body, "scim.user.deactivate") || !strings.Contains(r.Body, "scim.group.create") {
		t.Fatalf("sync events missing from the page")
	}
}

// codeFlowRefreshToken runs the code flow with offline_access in the
// signed-in browser and returns the refresh token.
func codeFlowRefreshToken(t *testing.T, base string, b *handlerstest.Client, clientID, secret string) string {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {"https://wiki.acme.example/cb"},
		"scope": {"openid offline_access"}, "state": {"st"}, "prompt": {"consent"}}
	r := b.Get("/authorize?" + q.Encode())
	for i := 0; i < 6 && !strings.HasPrefix(r.Header.Get("Location"), "https://wiki.acme.example/cb"); i++ {
		if r.Header.Get("Location") == "" {
			t.Fatalf("authorize stopped at %d: %s", r.StatusCode, pageError(r.Body))
		}
		r = b.Get(r.Header.Get("Location"))
	}
	cb, err := url.Parse(r.Header.Get("Location"))
	if err != nil || cb.Query().Get("code") == "" {
		t.Fatalf("no code: %q", r.Header.Get("Location"))
	}
	status, body := tokenCall(t, base, clientID, secret, url.Values{"grant_type": {"authorization_code"},
		"code": {cb.Query().Get("code")}, "redirect_uri": {"https://wiki.acme.example/cb"}})
	rt, _ := body["refresh_token"].(string)
	if status != http.StatusOK || rt == "" {
		t.Fatalf("token: %d %v", status, body)
	}
	return rt
}

func tokenCall(t *testing.T, base, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

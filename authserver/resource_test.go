package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

const (
	invAPI     = "https://inventory.example/api"
	billingAPI = "https://billing.example/"
	globexAPI  = "https://globex.example/api"
)

// apis registers three APIs: inventory (open to every organization, 2 min
// tokens, metadata published), billing (only for a plan acme is not on)
// and globex's own API.
func (w *world) apis() (inv, billing, globex store.API) {
	w.t.Helper()
	inv = store.API{Identifier: invAPI, Name: "Inventory", TokenTTL: 2 * time.Minute, PublishMetadata: true,
		Scopes: []store.APIScope{{Name: "inv:read"}, {Name: "inv:write"}}}
	billing = store.API{Identifier: billingAPI, Name: "Billing", AllowedPlans: []string{"platinum"},
		Scopes: []store.APIScope{{Name: "bill:read"}}}
	g := storeOrg(w, "globex")
	globex = store.API{OrgID: g.ID, Identifier: globexAPI, Name: "Globex", Scopes: []store.APIScope{{Name: "gx:read"}}}
	for _, a := range []*store.API{&inv, &billing, &globex} {
		if err := w.st.CreateAPI(w.ctx, a); err != nil {
			w.t.Fatal(err)
		}
	}
	return inv, billing, globex
}

func TestClientCredentialsWithResource(t *testing.T) {
	w := newWorld(t)
	w.apis()
	c, secret := w.service("orders:read", "inv:read", "inv:write")
	bare, bareSecret := w.service("orders:read")
	st, body := w.post("/token", url.Values{"grant_type": {"client_credentials"}, "resource": {invAPI}}, bare.ClientID, bareSecret)
	wantError(t, st, body, http.StatusBadRequest, "invalid_scope")
	cases := []struct {
		name      string
		resource  []string
		scope     string
		wantErr   string
		wantAud   string
		wantScope string
		wantTTL   float64
	}{
		{name: "no resource: issuer audience, portal scopes only", wantAud: "ISSUER", wantScope: "orders:read", wantTTL: 600},
		{name: "resource, no scope: the API's scopes", resource: []string{invAPI}, wantAud: invAPI,
			wantScope: "inv:read inv:write", wantTTL: 120},
		{name: "resource and one of its scopes", resource: []string{invAPI}, scope: "inv:read", wantAud: invAPI,
			wantScope: "inv:read", wantTTL: 120},
		{name: "resource with a portal scope", resource: []string{invAPI}, scope: "orders:read", wantErr: "invalid_scope"},
		{name: "API scope without resource", scope: "inv:read", wantErr: "invalid_scope"},
		{name: "unknown resource", resource: []string{"https://unknown.example/"}, wantErr: "invalid_target"},
		{name: "resource for another plan", resource: []string{billingAPI}, wantErr: "invalid_target"},
		{name: "another organization's API", resource: []string{globexAPI}, wantErr: "invalid_target"},
		{name: "two resources", resource: []string{invAPI, billingAPI}, wantErr: "invalid_target"},
		{name: "resource with a fragment", resource: []string{invAPI + "#x"}, wantErr: "invalid_target"},
		{name: "relative resource", resource: []string{"inventory"}, wantErr: "invalid_target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{"grant_type": {"client_credentials"}, "resource": tc.resource}
			if tc.scope != "" {
				f.Set("scope", tc.scope)
			}
			st, body := w.post("/token", f, c.ClientID, secret)
			if tc.wantErr != "" {
				wantError(t, st, body, http.StatusBadRequest, tc.wantErr)
				return
			}
			if st != 200 {
				t.Fatalf("status %d %v", st, body)
			}
			_, p := claims(t, body["access_token"].(string))
			aud := tc.wantAud
			if aud == "ISSUER" {
				aud = w.issuer
			}
			if a, _ := p["aud"].([]any); len(a) != 1 || a[0] != aud {
				t.Errorf("aud %v, want %s", p["aud"], aud)
			}
			if p["scope"] != tc.wantScope || body["scope"] != tc.wantScope {
				t.Errorf("scope %v / %v, want %s", p["scope"], body["scope"], tc.wantScope)
			}
			if ttl := p["exp"].(float64) - p["iat"].(float64); ttl != tc.wantTTL || body["expires_in"] != tc.wantTTL {
				t.Errorf("lifetime %v, expires_in %v, want %v", ttl, body["expires_in"], tc.wantTTL)
			}
		})
	}
}

func TestAuthorizationCodeWithResource(t *testing.T) {
	w := newWorld(t)
	inv, _, _ := w.apis()
	web, secret := w.client(authserver.RegisterInput{Name: "web", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		Scopes: []string{"orders:read", "inv:read"}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	authz := func(scope string, resource ...string) *url.URL {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {web.ClientID}, "redirect_uri": {redirectBase},
			"scope": {scope}, "state": {"st"}, "resource": resource}
		u, status, body := w.authorize(q)
		if u == nil {
			t.Fatalf("authorize: %d %s", status, body)
		}
		return u
	}
	exchange := func(code string, resource ...string) (int, map[string]any) {
		return w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectBase}, "resource": resource}, web.ClientID, secret)
	}

	// /authorize errors go to the redirect URI.
	for _, tc := range []struct {
		name, scope string
		resource    []string
		want        string
	}{
		{"unknown resource", "openid inv:read", []string{"https://unknown.example/"}, "invalid_target"},
		{"resource not allowed", "openid", []string{billingAPI}, "invalid_target"},
		{"another organization's API", "openid", []string{globexAPI}, "invalid_target"},
		{"portal scope with a resource", "openid orders:read", []string{invAPI}, "invalid_scope"},
		{"API scope without resource", "openid inv:read", nil, "invalid_scope"},
	} {
		t.Run("authorize/"+tc.name, func(t *testing.T) {
			if got := authz(tc.scope, tc.resource...).Query().Get("error"); got != tc.want {
				t.Fatalf("error %q, want %s", got, tc.want)
			}
		})
	}

	// The resource is remembered with the code: the token endpoint may
	// repeat it, not change it.
	code := authz("openid offline_access inv:read", invAPI).Query().Get("code")
	if st, body := exchange(code, billingAPI); st != 400 || body["error"] != "invalid_target" {
		t.Fatalf("another resource at /token: %d %v", st, body)
	}
	st, body := exchange(code, invAPI)
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, body)
	}
	_, p := claims(t, body["access_token"].(string))
	if a, _ := p["aud"].([]any); len(a) != 1 || a[0] != invAPI || p["scope"] != "openid offline_access inv:read" {
		t.Fatalf("claims %v", p)
	}
	if body["expires_in"] != 120.0 {
		t.Errorf("expires_in %v", body["expires_in"])
	}
	// A token for an API is not a token for userinfo.
	req, _ := http.NewRequest(http.MethodGet, w.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
	if st, _ := w.do(req); st != http.StatusUnauthorized {
		t.Errorf("userinfo with an API's token: %d", st)
	}

	refresh := body["refresh_token"].(string)
	for _, tc := range []struct {
		name     string
		resource []string
	}{
		{"refresh with a resource not in the grant", []string{billingAPI}},
		{"refresh with an unknown resource", []string{"https://unknown.example/"}},
		{"refresh with two resources", []string{invAPI, globexAPI}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
				"resource": tc.resource}, web.ClientID, secret)
			wantError(t, st, body, 400, "invalid_target")
		})
	}
	st, body = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, web.ClientID, secret)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, body)
	}
	if _, p := claims(t, body["access_token"].(string)); p["aud"].([]any)[0] != invAPI {
		t.Errorf("refreshed aud %v", p["aud"])
	}
	refresh = body["refresh_token"].(string)

	// Without resource at /authorize, none can be added at /token.
	code = authz("openid orders:read").Query().Get("code")
	if st, body := exchange(code, invAPI); st != 400 || body["error"] != "invalid_target" {
		t.Fatalf("resource added at /token: %d %v", st, body)
	}

	// The API closes to the organization: its grants stop working.
	code = authz("openid inv:read", invAPI).Query().Get("code")
	if _, _, err := w.st.UpdateAPI(w.ctx, "", inv.ID, func(a *store.API) error {
		a.AllowedPlans = []string{"platinum"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if st, body := exchange(code); st != 400 || body["error"] != "invalid_target" {
		t.Fatalf("code for a closed API: %d %v", st, body)
	}
	st, body = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, web.ClientID, secret)
	wantError(t, st, body, 400, "invalid_target")
}

func TestTokenExchangeWithResource(t *testing.T) {
	w := newWorld(t)
	w.apis()
	c, secret := w.service("orders:read", "inv:read", "inv:write")
	_, body := w.post("/token", url.Values{"grant_type": {"client_credentials"}, "resource": {invAPI}}, c.ClientID, secret)
	subject := body["access_token"].(string)
	_, body = w.post("/token", url.Values{"grant_type": {"client_credentials"}}, c.ClientID, secret)
	portal := body["access_token"].(string)
	base := func(tok string) url.Values {
		return url.Values{"grant_type": {exchangeGrant}, "subject_token": {tok}, "subject_token_type": {accessTokenType}}
	}
	cases := []struct {
		name    string
		subject string
		set     url.Values
		wantErr string
		wantAud string
	}{
		{name: "narrow to one API scope", subject: subject, set: url.Values{"resource": {invAPI}, "scope": {"inv:read"}}, wantAud: invAPI},
		{name: "API by audience", subject: subject, set: url.Values{"audience": {invAPI}}, wantAud: invAPI},
		{name: "API and another audience", subject: subject, set: url.Values{"audience": {invAPI}, "resource": {"ISSUER"}},
			wantErr: "invalid_target"},
		{name: "API not allowed", subject: subject, set: url.Values{"resource": {billingAPI}}, wantErr: "invalid_target"},
		{name: "unknown resource", subject: subject, set: url.Values{"resource": {"https://unknown.example/"}}, wantErr: "invalid_target"},
		{name: "API scopes re-aimed at the issuer", subject: subject, set: url.Values{"scope": {"inv:read"}}, wantErr: "invalid_scope"},
		{name: "portal scope to an API", subject: portal, set: url.Values{"resource": {invAPI}, "scope": {"orders:read"}},
			wantErr: "invalid_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := base(tc.subject)
			for k, vs := range tc.set {
				for _, v := range vs {
					f.Add(k, strings.ReplaceAll(v, "ISSUER", w.issuer))
				}
			}
			st, body := w.post("/token", f, c.ClientID, secret)
			if tc.wantErr != "" {
				wantError(t, st, body, 400, tc.wantErr)
				return
			}
			if st != 200 {
				t.Fatalf("%d %v", st, body)
			}
			if _, p := claims(t, body["access_token"].(string)); p["aud"].([]any)[0] != tc.wantAud {
				t.Errorf("aud %v", p["aud"])
			}
		})
	}
}

func TestProtectedResourceMetadata(t *testing.T) {
	w := newWorld(t)
	inv, billing, _ := w.apis()
	get := func(path string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, w.issuer+path, nil)
		return w.do(req)
	}
	u, _ := url.Parse(w.srv.ResourceMetadataURL(inv.ID))
	st, doc := get(u.Path)
	if st != 200 || doc["resource"] != invAPI || doc["authorization_servers"].([]any)[0] != w.issuer {
		t.Fatalf("metadata: %d %v", st, doc)
	}
	if sc, _ := json.Marshal(doc["scopes_supported"]); string(sc) != `["inv:read","inv:write"]` {
		t.Errorf("scopes_supported %s", sc)
	}
	if st, _ := get("/.well-known/oauth-protected-resource/apis/" + billing.ID); st != 404 {
		t.Errorf("an API that does not delegate its metadata: %d", st)
	}
	if st, _ := get("/.well-known/oauth-protected-resource/apis/nope"); st != 404 {
		t.Errorf("unknown API: %d", st)
	}
	// Discovery lists the platform's API scopes, never an organization's own.
	_, disco := get("/.well-known/openid-configuration")
	sc, _ := json.Marshal(disco["scopes_supported"])
	if !strings.Contains(string(sc), `"inv:read"`) || strings.Contains(string(sc), "gx:read") {
		t.Errorf("scopes_supported %s", sc)
	}
}

func TestRegistrationRefusesScopesOfAPIsTheOrgMayNotUse(t *testing.T) {
	w := newWorld(t)
	w.apis()
	for _, sc := range []string{"bill:read", "gx:read"} {
		_, _, err := w.reg.Register(w.ctx, w.org.ID, cli, authserver.RegisterInput{Name: "svc", Type: store.ClientService,
			Scopes: []string{sc}, GrantTypes: []string{"client_credentials"}})
		if err == nil || !strings.Contains(err.Error(), "may not use") {
			t.Errorf("%s: %v", sc, err)
		}
	}
}

func TestScopeGroups(t *testing.T) {
	w := newWorld(t)
	w.apis()
	groups, err := w.srv.ScopeGroups(w.ctx, []string{"inv:read", "openid", "orders:read", "bill:read", "inv:write"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		got = append(got, g.Title+":"+strings.Join(g.Scopes, ","))
	}
	want := "Sign-in (OpenID Connect):openid|Portal:orders:read|Inventory:inv:read,inv:write|Billing:bill:read"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %s", strings.Join(got, "|"))
	}
}

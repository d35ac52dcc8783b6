package authserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/store"
)

// TestPartnershipWindow: once an organization is suspended or its
// valid_until passes, authorize, client credentials, refresh, token
// exchange and registration are all refused, and refresh tokens die.
func TestPartnershipWindow(t *testing.T) {
	for name, end := range map[string]func(*store.Organization, time.Time){
		"suspended":          func(o *store.Organization, _ time.Time) { o.Status = store.OrgSuspended },
		"valid_until passed": func(o *store.Organization, now time.Time) { o.ValidUntil = now.Add(-time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			svc, svcSecret := w.service("orders:read")
			if _, err := w.reg.SetExchangeAnySubject(w.ctx, w.org.ID, svc.ClientID, cli, true); err != nil {
				t.Fatal(err)
			}
			spa := w.spa("orders:read")
			v, ch := pkce()
			code := w.codeFor(spa.ClientID, "openid offline_access orders:read", ch)
			_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirectBase}, "client_id": {spa.ClientID}, "code_verifier": {v}}, "", "")
			rt, at := tok["refresh_token"].(string), tok["access_token"].(string)
			regToken := w.registrationToken()

			if _, _, err := w.st.UpdateOrganization(w.ctx, w.org.ID, func(o *store.Organization) error {
				end(o, w.clock())
				return nil
			}); err != nil {
				t.Fatal(err)
			}

			st, b := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, svcSecret)
			wantError(t, st, b, 400, "unauthorized_client")

			st, b = w.post("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"subject_token": {at}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}, svc.ClientID, svcSecret)
			wantError(t, st, b, 400, "unauthorized_client")

			// Refresh fails and kills the family (and the access tokens it issued).
			st, b = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {spa.ClientID}}, "", "")
			wantError(t, st, b, 400, "invalid_grant")

			_, ch2 := pkce()
			u, _, body := w.authorize(url.Values{"response_type": {"code"}, "client_id": {spa.ClientID},
				"redirect_uri": {redirectBase}, "scope": {"openid"}, "state": {"s"}, "code_challenge": {ch2},
				"code_challenge_method": {"S256"}})
			if u == nil || u.Query().Get("error") != "access_denied" {
				t.Fatalf("authorize: %v %s", u, body)
			}

			if _, _, err := w.reg.Register(w.ctx, w.org.ID, cli, registerService()); !isErr(err, authserver.ErrRegistrationDenied) {
				t.Fatalf("registrar: %v", err)
			}
			st, b = w.dcr(regToken, map[string]any{"grant_types": []string{"client_credentials"}, "client_name": "x"})
			wantError(t, st, b, 403, "access_denied")

			// Reinstated, the refresh token stays dead: its family was revoked.
			w.st.UpdateOrganization(w.ctx, w.org.ID, func(o *store.Organization) error {
				o.Status, o.ValidUntil = store.OrgActive, time.Time{}
				return nil
			})
			st, b = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {spa.ClientID}}, "", "")
			wantError(t, st, b, 400, "invalid_grant")
			if st, b := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, svcSecret); st != 200 {
				t.Fatalf("reinstated: %d %v", st, b)
			}
		})
	}
}

func (w *world) registrationToken() string {
	w.t.Helper()
	_, plain, err := w.reg.CreateRegistrationToken(w.ctx, w.org.ID, cli, authserver.RegistrationTokenInput{Description: "ci"})
	if err != nil {
		w.t.Fatal(err)
	}
	return plain
}

func (w *world) dcr(token string, meta map[string]any) (int, map[string]any) {
	w.t.Helper()
	body, _ := json.Marshal(meta)
	req, _ := http.NewRequest(http.MethodPost, w.issuer+"/register", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return w.do(req)
}

func TestDynamicClientRegistration(t *testing.T) {
	w := newWorld(t)
	token := w.registrationToken()
	st, b := w.dcr("", map[string]any{"redirect_uris": []string{redirectBase}})
	wantError(t, st, b, 401, "invalid_token")
	st, b = w.dcr(token, map[string]any{"redirect_uris": []string{"https://app.example/cb#frag"}})
	wantError(t, st, b, 400, "invalid_redirect_uri")
	st, b = w.dcr(token, map[string]any{"redirect_uris": []string{redirectBase}, "scope": "openid admin:all"})
	wantError(t, st, b, 400, "invalid_client_metadata") // admin:all is not in the plan

	st, b = w.dcr(token, map[string]any{"redirect_uris": []string{redirectBase}, "client_name": "Partner app",
		"scope": "openid orders:read", "grant_types": []string{"authorization_code", "refresh_token"},
		"response_types": []string{"code"}})
	if st != 201 || b["client_id"] == nil || b["client_secret"] == nil || b["registration_access_token"] == nil {
		t.Fatalf("register: %d %v", st, b)
	}
	clientID, secret := b["client_id"].(string), b["client_secret"].(string)
	rat, uri := b["registration_access_token"].(string), b["registration_client_uri"].(string)
	// The registered client belongs to the token's organization and works.
	c, err := w.st.ClientByClientID(w.ctx, w.org.ID, clientID)
	if err != nil || !c.Dynamic || c.Type != store.ClientWeb {
		t.Fatalf("stored client: %v %+v", err, c)
	}
	code := w.codeFor(clientID, "openid", "")
	if st, b := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, clientID, secret); st != 200 {
		t.Fatalf("registered client exchange: %d %v", st, b)
	}

	manage := func(method string, meta map[string]any, token string) (int, map[string]any) {
		var body []byte
		if meta != nil {
			body, _ = json.Marshal(meta)
		}
		req, _ := http.NewRequest(method, uri, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return w.do(req)
	}
	if st, b := manage(http.MethodGet, nil, "wrong"); st != 401 {
		t.Fatalf("read with a wrong token: %d %v", st, b)
	}
	st, b = manage(http.MethodGet, nil, rat)
	if st != 200 || b["client_name"] != "Partner app" || b["client_secret"] != nil {
		t.Fatalf("read: %d %v", st, b)
	}
	st, b = manage(http.MethodPut, map[string]any{"client_id": clientID, "client_name": "Renamed",
		"redirect_uris": []string{redirectBase, "https://app.example/cb"}, "scope": "openid"}, rat)
	if st != 200 || b["client_name"] != "Renamed" || len(b["redirect_uris"].([]any)) != 2 {
		t.Fatalf("update: %d %v", st, b)
	}
	if st, _ := manage(http.MethodDelete, nil, rat); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := manage(http.MethodGet, nil, rat); st != 401 {
		t.Fatalf("read after delete: %d", st)
	}
	events, _ := w.st.AuditEvents(w.ctx, store.AuditFilter{OrgID: w.org.ID})
	var actions []string
	for _, e := range events {
		if strings.HasPrefix(e.Action, "client.") { // not the user's consent.grant in between
			actions = append(actions, e.Action)
		}
	}
	// The test clock stands still, so the three events share one time and
	// their order among themselves is not defined: each must be there.
	sort.Strings(actions)
	if !strings.Contains(strings.Join(actions, ","), "client.create,client.delete,client.update") {
		t.Errorf("audit trail %v", actions)
	}
}

func TestPrivateKeyJWT(t *testing.T) {
	w := newWorld(t)
	key, _ := rsaKey()
	pub := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	jwks, _ := json.Marshal(pub)
	c, secret := w.client(authserver.RegisterInput{Name: "jwt", Type: store.ClientService, Scopes: []string{"orders:read"},
		TokenEndpointAuthMethod: "private_key_jwt", JWKS: string(jwks)})
	if secret != "" {
		t.Fatal("a private_key_jwt client got a secret")
	}
	assertion := signAssertion(t, key, "k1", c.ClientID, w.issuer+"/token", w.clock())
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion": {assertion},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	if st, b := w.post("/token", form, "", ""); st != 200 {
		t.Fatalf("private_key_jwt: %d %v", st, b)
	}
	st, b := w.post("/token", form, "", "")
	wantError(t, st, b, 401, "invalid_client") // replayed jti
	other, _ := rsaKey()
	form.Set("client_assertion", signAssertion(t, other, "k1", c.ClientID, w.issuer+"/token", w.clock()))
	st, b = w.post("/token", form, "", "")
	wantError(t, st, b, 401, "invalid_client") // wrong key
	form.Set("client_assertion", signAssertion(t, key, "k1", c.ClientID, "https://elsewhere.example/token", w.clock()))
	st, b = w.post("/token", form, "", "")
	wantError(t, st, b, 401, "invalid_client") // wrong audience
}

// seen runs ok until it holds: another process's commit reaches the store's
// data version within milliseconds (SQLite's watcher polls every 10 ms;
// PostgreSQL sends a notification), so it may take a few requests; the store
// tests hold the 20 ms bound. A second here is only the give-up point.
func seen(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("another process's change was not seen within a second")
		}
	}
}

// TestCachesSeeOtherProcesses: a change committed through another
// connection (the CLI) is seen by the next request.
func TestCachesSeeOtherProcesses(t *testing.T) {
	w := newWorld(t)
	svc, secret := w.service("orders:read")
	if st, _ := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, secret); st != 200 {
		t.Fatal(st)
	}
	other, err := store.Open(w.ctx, w.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	reg, err := authserver.NewRegistrar(w.ctx, authserver.RegistrarConfig{Store: other, Sealer: w.sealer, Now: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetEnabled(w.ctx, w.org.ID, svc.ClientID, cli, false); err != nil {
		t.Fatal(err)
	}
	seen(t, func() bool {
		st, _ := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, secret)
		return st == 401
	})
	st, b := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, secret)
	wantError(t, st, b, 401, "invalid_client")
	reg.SetEnabled(w.ctx, w.org.ID, svc.ClientID, cli, true)

	// Rotation with grace: both secrets work; without grace only the new one.
	_, s2, err := reg.RotateSecret(w.ctx, w.org.ID, svc.ClientID, cli, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	seen(t, func() bool {
		st, _ := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, s2)
		return st == 200
	})
	for _, s := range []string{secret, s2} {
		if st, b := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, s); st != 200 {
			t.Fatalf("during grace: %d %v", st, b)
		}
	}
	w.advance(time.Hour + time.Second)
	st, b = w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, secret)
	wantError(t, st, b, 401, "invalid_client")
	_, s3, _ := reg.RotateSecret(w.ctx, w.org.ID, svc.ClientID, cli, 0)
	seen(t, func() bool {
		st, _ := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, s3)
		return st == 200
	})
	st, b = w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, s2)
	wantError(t, st, b, 401, "invalid_client")
	if st, _ := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, s3); st != 200 {
		t.Fatal(st)
	}

	// Key rotation from the CLI: new tokens use the new key; the old one stays published.
	_, old := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, s3)
	oldHeader, _ := claims(t, old["access_token"].(string))
	if _, err := authserver.RotateKeys(w.ctx, other, w.sealer, cli, w.clock()); err != nil {
		t.Fatal(err)
	}
	var newHeader map[string]any
	seen(t, func() bool {
		_, fresh := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, s3)
		newHeader, _ = claims(t, fresh["access_token"].(string))
		return newHeader["kid"] != oldHeader["kid"]
	})
	if newHeader["kid"] == oldHeader["kid"] {
		t.Fatal("still signing with the retired key")
	}
	resp, err := http.Get(w.issuer + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Key(oldHeader["kid"].(string))) != 1 || len(set.Key(newHeader["kid"].(string))) != 1 {
		t.Fatalf("JWKS must hold the old and the new key: %d keys", len(set.Keys))
	}
}

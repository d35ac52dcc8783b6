package authserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/store"
)

// TestIntrospectionAnswersAsBefore: introspection, now served by the
// server itself, answers every kind of request exactly as it did through
// op's router (authserver.LegacyIntrospection, the previous code): the same
// status, headers and JSON, for active access tokens of services, people,
// delegation and DPoP, refresh tokens, tokens the caller may not see or that
// are unknown, expired or revoked, and requests that fail authentication or
// are malformed. A second call, answered from the verified-token cache,
// must still match.
func TestIntrospectionAnswersAsBefore(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) {
		c.Throttle = authserver.Throttle{ClientFailures: 1000, SourceFailures: 1000}
	})
	legacy := authserver.LegacyIntrospection(w.srv)

	svc, svcSecret := w.service("orders:read", "reports:read")
	web, webSecret := w.web("orders:read")
	spa := w.spa("orders:read")
	token := func(form url.Values, c creds, proofs ...string) map[string]any {
		t.Helper()
		r := w.send("/token", form, c.id, c.secret, proofs...)
		if r.status != 200 {
			t.Fatalf("token: %d %v", r.status, r.body)
		}
		return r.body
	}
	me := creds{svc.ClientID, svcSecret}
	serviceAT := token(url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read reports:read"}}, me)["access_token"].(string)
	k := newDPoPKey(t)
	dpopAT := token(ccForm, me, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))["access_token"].(string)
	code := w.codeFor(web.ClientID, "openid offline_access orders:read", "")
	userTok := token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectBase}},
		creds{web.ClientID, webSecret})
	userAT, userRT := userTok["access_token"].(string), userTok["refresh_token"].(string)
	// Delegation (RFC 8693): the service acts for the person.
	if _, err := w.reg.SetExchangeAnySubject(w.ctx, w.org.ID, svc.ClientID, cli, true); err != nil {
		t.Fatal(err)
	}
	actedAT := token(url.Values{"grant_type": {exchangeGrant}, "subject_token": {userAT}, "subject_token_type": {accessTokenType},
		"actor_token": {serviceAT}, "actor_token_type": {accessTokenType}}, me)["access_token"].(string)
	revokedAT := token(ccForm, me)["access_token"].(string)
	shortAT := token(ccForm, me)["access_token"].(string)

	// Another organization's service, and a private_key_jwt client here.
	other := storeOrg(w, "other")
	otherSvc, otherSecret, err := w.reg.Register(w.ctx, other.ID, cli, authserver.RegisterInput{Name: "api",
		Type: store.ClientService, GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := rsaKey()
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	jc, _ := w.client(authserver.RegisterInput{Name: "jwt", Type: store.ClientService, Scopes: []string{"orders:read"},
		TokenEndpointAuthMethod: "private_key_jwt", JWKS: string(jwks)})

	type req struct {
		form  func() url.Values // made per call: assertions are single-use
		basic *creds
	}
	basic := func(c creds, tok string) req {
		return req{form: func() url.Values { return url.Values{"token": {tok}} }, basic: &c}
	}
	post := func(c creds, tok string) req {
		return req{form: func() url.Values {
			return url.Values{"token": {tok}, "client_id": {c.id}, "client_secret": {c.secret}}
		}}
	}
	compare := func(t *testing.T, name string, rq req, wantStatus int, wantActive any) {
		t.Helper()
		do := func(h http.Handler) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, w.issuer+"/introspect", strings.NewReader(rq.form().Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.RemoteAddr = "127.0.0.1:40000"
			if rq.basic != nil {
				r.SetBasicAuth(url.QueryEscape(rq.basic.id), url.QueryEscape(rq.basic.secret))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			return rec
		}
		for round := range 2 {
			now, old := do(w.srv), do(legacy)
			if now.Code != old.Code || now.Code != wantStatus {
				t.Fatalf("%s (call %d): status %d, before %d, want %d; body %s", name, round+1, now.Code, old.Code, wantStatus, now.Body)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "Pragma", "WWW-Authenticate"} {
				if a, b := now.Header().Values(h), old.Header().Values(h); !reflect.DeepEqual(a, b) {
					t.Errorf("%s: header %s %q, before %q", name, h, a, b)
				}
			}
			var a, b map[string]any
			if err := json.Unmarshal(now.Body.Bytes(), &a); err != nil {
				t.Fatalf("%s: %v in %s", name, err, now.Body)
			}
			if err := json.Unmarshal(old.Body.Bytes(), &b); err != nil {
				t.Fatalf("%s: before: %v in %s", name, err, old.Body)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s (call %d):\n now    %s\n before %s", name, round+1, now.Body, old.Body)
			}
			if !bytes.Equal(now.Body.Bytes(), old.Body.Bytes()) {
				t.Errorf("%s: same JSON, other bytes:\n now    %q\n before %q", name, now.Body, old.Body)
			}
			if wantActive != nil && a["active"] != wantActive {
				t.Fatalf("%s: active %v, want %v: %s", name, a["active"], wantActive, now.Body)
			}
		}
	}

	webC := creds{web.ClientID, webSecret}
	for _, tc := range []struct {
		name   string
		rq     req
		status int
		active any
	}{
		{"service access token, Basic", basic(me, serviceAT), 200, true},
		{"service access token, client_secret_post", post(me, serviceAT), 200, true},
		{"DPoP-bound access token", basic(me, dpopAT), 200, true},
		{"person's access token", basic(webC, userAT), 200, true},
		{"delegated access token (act)", basic(me, actedAT), 200, true},
		{"refresh token", basic(webC, userRT), 200, true},
		{"another client of the organization", basic(webC, serviceAT), 200, true},
		{"private_key_jwt caller", req{form: func() url.Values {
			return url.Values{"token": {serviceAT}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion": {signAssertion(t, key, "k1", jc.ClientID, w.issuer+"/introspect", w.clock())}}
		}}, 200, true},
		{"caller of another organization", basic(creds{otherSvc.ClientID, otherSecret}, serviceAT), 200, false},
		{"caller of another organization, refresh token", basic(creds{otherSvc.ClientID, otherSecret}, userRT), 200, false},
		{"unknown token", basic(me, "not-a-token"), 200, false},
		{"JWT-shaped garbage", basic(me, "a.b.c"), 200, false},
		{"wrong secret", basic(creds{svc.ClientID, "wrong"}, serviceAT), 401, nil},
		{"unknown client", basic(creds{"nobody", "x"}, serviceAT), 401, nil},
		{"public client", req{form: func() url.Values { return url.Values{"token": {serviceAT}, "client_id": {spa.ClientID}} }}, 400, nil},
		{"public client with a secret", basic(creds{spa.ClientID, "x"}, serviceAT), 401, nil},
		{"no token", req{form: func() url.Values { return url.Values{} }, basic: &me}, 400, nil},
		{"no credentials", req{form: func() url.Values { return url.Values{"token": {serviceAT}} }}, 400, nil},
		{"Basic and form secret", req{form: func() url.Values {
			return url.Values{"token": {serviceAT}, "client_id": {svc.ClientID}, "client_secret": {svcSecret}}
		}, basic: &me}, 400, nil},
		{"bad assertion type", req{form: func() url.Values {
			return url.Values{"token": {serviceAT}, "client_assertion": {"x"}, "client_assertion_type": {"nope"}}
		}}, 400, nil},
		{"repeated token, last one counts", req{form: func() url.Values { return url.Values{"token": {"nope", serviceAT}} }, basic: &me}, 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) { compare(t, tc.name, tc.rq, tc.status, tc.active) })
	}

	t.Run("revoked access token", func(t *testing.T) {
		compare(t, "before revocation", basic(me, revokedAT), 200, true)
		if r := w.send("/revoke", url.Values{"token": {revokedAT}}, svc.ClientID, svcSecret); r.status != 200 {
			t.Fatalf("revoke: %d %v", r.status, r.body)
		}
		compare(t, "after revocation", basic(me, revokedAT), 200, false)
	})
	t.Run("rotated refresh token", func(t *testing.T) {
		token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {userRT}}, webC)
		compare(t, "used refresh token", basic(webC, userRT), 200, false)
	})
	t.Run("expired access token", func(t *testing.T) {
		compare(t, "before expiry", basic(me, shortAT), 200, true)
		w.advance(11 * time.Minute)
		compare(t, "after expiry", basic(me, shortAT), 200, false)
	})
}

package authserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/store"
)

var ccForm = url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}

func TestDPoPBindsClientCredentialsTokens(t *testing.T) {
	w := newWorld(t)
	c, secret := w.service("orders:read")
	k := newDPoPKey(t)
	r := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	_, p := claims(t, r.str("access_token"))
	if cnf, _ := p["cnf"].(map[string]any); cnf["jkt"] != k.jkt {
		t.Fatalf("cnf %v, want jkt %s", p["cnf"], k.jkt)
	}
	in := w.send("/introspect", url.Values{"token": {r.str("access_token")}}, c.ClientID, secret)
	if cnf, _ := in.body["cnf"].(map[string]any); in.body["active"] != true || cnf["jkt"] != k.jkt || in.str("token_type") != "DPoP" {
		t.Fatalf("introspection %v", in.body)
	}
	// Without a proof the same client gets a bearer token, unbound.
	r = w.send("/token", ccForm, c.ClientID, secret)
	if _, p := claims(t, r.str("access_token")); r.str("token_type") != "Bearer" || p["cnf"] != nil {
		t.Fatalf("bearer: %v", r.body)
	}
}

// TestDPoPProofErrors: every way RFC 9449 §4.3 says a proof is invalid is
// refused with 400 invalid_dpop_proof, and no token is issued.
func TestDPoPProofErrors(t *testing.T) {
	w := newWorld(t)
	c, secret := w.service("orders:read")
	k := newDPoPKey(t)
	htu := w.issuer + "/token"
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	replayed := k.proof("POST", htu, w.clock(), proofOpts{})
	if r := w.send("/token", ccForm, c.ClientID, secret, replayed); r.status != 200 {
		t.Fatalf("first use: %d %v", r.status, r.body)
	}
	tamper := func(p string) string {
		parts := strings.Split(p, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sig[5] ^= 0xff
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	withPrivateJWK := func() string {
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv},
			(&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: k.priv}))
		b, _ := json.Marshal(map[string]any{"jti": "x1", "htm": "POST", "htu": htu, "iat": w.clock().Unix()})
		jws, _ := sig.Sign(b)
		s, _ := jws.CompactSerialize()
		return s
	}
	algNone := func() string {
		jwk, _ := json.Marshal(jose.JSONWebKey{Key: k.priv.Public()})
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpop+jwt","jwk":` + string(jwk) + `}`))
		b, _ := json.Marshal(map[string]any{"jti": "x2", "htm": "POST", "htu": htu, "iat": w.clock().Unix()})
		return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
	}
	now := w.clock()
	for _, tc := range []struct {
		name   string
		proofs []string
	}{
		{"bad signature", []string{tamper(k.proof("POST", htu, now, proofOpts{}))}},
		{"not a JWS", []string{"not-a-proof"}},
		{"alg none", []string{algNone()}},
		{"alg outside the list (ES384)", []string{dpopKeyOf(t, p384, jose.ES384).proof("POST", htu, now, proofOpts{})}},
		{"private key embedded", []string{withPrivateJWK()}},
		{"typ JWT", []string{k.proof("POST", htu, now, proofOpts{typ: "JWT"})}},
		{"wrong htm", []string{k.proof("GET", htu, now, proofOpts{})}},
		{"wrong htu path", []string{k.proof("POST", w.issuer+"/introspect", now, proofOpts{})}},
		{"wrong htu host", []string{k.proof("POST", "https://attacker.example/token", now, proofOpts{})}},
		{"stale iat", []string{k.proof("POST", htu, now.Add(-2*time.Minute), proofOpts{})}},
		{"iat in the future", []string{k.proof("POST", htu, now.Add(time.Minute), proofOpts{})}},
		{"no iat", []string{k.proof("POST", htu, now, proofOpts{claims: map[string]any{"iat": nil}})}},
		{"no jti", []string{k.proof("POST", htu, now, proofOpts{claims: map[string]any{"jti": nil}})}},
		{"replayed jti", []string{replayed}},
		{"two DPoP headers", []string{k.proof("POST", htu, now, proofOpts{}), k.proof("POST", htu, now, proofOpts{})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.send("/token", ccForm, c.ClientID, secret, tc.proofs...)
			wantOAuthError(t, r, 400, "invalid_dpop_proof")
			if r.str("access_token") != "" {
				t.Fatal("a token was issued")
			}
		})
	}
	// What §4.3 allows: htu compared without query and fragment, scheme and
	// host case-insensitively.
	for _, u := range []string{htu + "?a=1#frag", strings.Replace(htu, "http://127.0.0.1", "HTTP://127.0.0.1", 1)} {
		if r := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", u, now, proofOpts{})); r.status != 200 {
			t.Errorf("htu %s: %d %v", u, r.status, r.body)
		}
	}
}

func TestDPoPServerNonce(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) { c.DPoPNonce = true })
	c, secret := w.service("orders:read")
	k := newDPoPKey(t)
	htu := w.issuer + "/token"
	r := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{}))
	wantOAuthError(t, r, 400, "use_dpop_nonce")
	nonce := r.header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("no DPoP-Nonce header with use_dpop_nonce")
	}
	r = w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{nonce: nonce}))
	if r.status != 200 || r.header.Get("DPoP-Nonce") == "" {
		t.Fatalf("with nonce: %d %v %v", r.status, r.body, r.header)
	}
	// A server replica built on the same database accepts the nonce too.
	w.advance(4 * time.Minute)
	if r := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{nonce: nonce})); r.status != 200 {
		t.Fatalf("nonce after 4 minutes: %d %v", r.status, r.body)
	}
	// In this order (a map's would be random): after "stale" the clock has
	// moved on, so the fresh nonce a made-up one gets differs from nonce.
	for _, tc := range []struct{ name, n string }{{"stale", nonce}, {"made up", "12345.abc"}} {
		name, n := tc.name, tc.n
		if name == "stale" {
			w.advance(7 * time.Minute)
		}
		r := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{nonce: n}))
		wantOAuthError(t, r, 400, "use_dpop_nonce")
		if r.header.Get("DPoP-Nonce") == "" || r.header.Get("DPoP-Nonce") == nonce {
			t.Fatalf("%s: DPoP-Nonce %q", name, r.header.Get("DPoP-Nonce"))
		}
	}
}

func TestDPoPRequired(t *testing.T) {
	t.Run("by the client", func(t *testing.T) {
		w := newWorld(t)
		c, secret := w.service("orders:read")
		on := true
		if _, err := w.reg.SetSecurity(w.ctx, w.org.ID, c.ClientID, cli, authserver.ClientSecurity{RequireDPoP: &on}); err != nil {
			t.Fatal(err)
		}
		wantOAuthError(t, w.send("/token", ccForm, c.ClientID, secret), 400, "invalid_dpop_proof")
		k := newDPoPKey(t)
		if r := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})); r.status != 200 {
			t.Fatalf("with proof: %d %v", r.status, r.body)
		}
	})
	t.Run("by the server", func(t *testing.T) {
		w := newWorld(t, func(c *authserver.Config) { c.RequireDPoP = true })
		c, secret := w.service("orders:read")
		wantOAuthError(t, w.send("/token", ccForm, c.ClientID, secret), 400, "invalid_dpop_proof")
	})
	t.Run("by the API hook", func(t *testing.T) {
		w := newWorld(t, func(c *authserver.Config) {
			c.RequireDPoPFor = func(_ context.Context, _ string, f url.Values) bool {
				return f.Get("resource") == "https://api.example"
			}
		})
		c, secret := w.service("orders:read")
		f := url.Values{"grant_type": {"client_credentials"}, "resource": {"https://api.example"}}
		wantOAuthError(t, w.send("/token", f, c.ClientID, secret), 400, "invalid_dpop_proof")
	})
}

// codeFlow runs /authorize for a client with extra parameters and returns
// the code and the PKCE verifier.
func (w *world) codeWith(clientID, scope string, extra url.Values) (code, verifier string) {
	w.t.Helper()
	verifier, challenge := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectBase},
		"scope": {scope}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	u, status, body := w.authorize(q)
	if u == nil || u.Query().Get("code") == "" {
		w.t.Fatalf("authorize: %d %v %s", status, u, body)
	}
	return u.Query().Get("code"), verifier
}

func codeForm(clientID, code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {code},
		"redirect_uri": {redirectBase}, "code_verifier": {verifier}}
}

// TestDPoPPublicClientRefreshTokenBoundToKey: RFC 9449 §5 binds a public
// client's refresh token to the key; another key, or none, is invalid_grant.
func TestDPoPPublicClientRefreshTokenBoundToKey(t *testing.T) {
	w := newWorld(t)
	spa := w.spa("orders:read")
	k := newDPoPKey(t)
	htu := w.issuer + "/token"
	code, verifier := w.codeWith(spa.ClientID, "openid offline_access orders:read", nil)
	r := w.send("/token", codeForm(spa.ClientID, code, verifier), "", "", k.proof("POST", htu, w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" || r.str("refresh_token") == "" {
		t.Fatalf("code exchange: %d %v", r.status, r.body)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {spa.ClientID}, "refresh_token": {r.str("refresh_token")}}
	other := newDPoPKey(t)
	wantOAuthError(t, w.send("/token", refresh, "", "", other.proof("POST", htu, w.clock(), proofOpts{})), 400, "invalid_grant")
	wantOAuthError(t, w.send("/token", refresh, "", ""), 400, "invalid_grant")
	r = w.send("/token", refresh, "", "", k.proof("POST", htu, w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("refresh with the key: %d %v", r.status, r.body)
	}
	if _, p := claims(t, r.str("access_token")); p["cnf"].(map[string]any)["jkt"] != k.jkt {
		t.Fatalf("refreshed token cnf %v", p["cnf"])
	}
}

// TestDPoPConfidentialRefreshNotKeyBound: a confidential client's refresh
// token is bound by its authentication; each access token is bound to the
// key of the proof that came with the request.
func TestDPoPConfidentialRefreshNotKeyBound(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read")
	htu := w.issuer + "/token"
	code, verifier := w.codeWith(web.ClientID, "openid offline_access", nil)
	r := w.send("/token", codeForm(web.ClientID, code, verifier), web.ClientID, secret, newDPoPKey(t).proof("POST", htu, w.clock(), proofOpts{}))
	if r.status != 200 {
		t.Fatalf("code exchange: %d %v", r.status, r.body)
	}
	k2 := newDPoPKey(t)
	r = w.send("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}, web.ClientID, secret,
		k2.proof("POST", htu, w.clock(), proofOpts{}))
	if _, p := claims(t, r.str("access_token")); r.status != 200 || p["cnf"].(map[string]any)["jkt"] != k2.jkt {
		t.Fatalf("refresh: %d %v", r.status, r.body)
	}
}

// TestDPoPJKTBindsTheCode: RFC 9449 §10.
func TestDPoPJKTBindsTheCode(t *testing.T) {
	w := newWorld(t)
	spa := w.spa("orders:read")
	k := newDPoPKey(t)
	htu := w.issuer + "/token"
	code, verifier := w.codeWith(spa.ClientID, "orders:read", url.Values{"dpop_jkt": {k.jkt}})
	form := codeForm(spa.ClientID, code, verifier)
	wantOAuthError(t, w.send("/token", form, "", ""), 400, "invalid_grant")
	wantOAuthError(t, w.send("/token", form, "", "", newDPoPKey(t).proof("POST", htu, w.clock(), proofOpts{})), 400, "invalid_grant")
	if r := w.send("/token", form, "", "", k.proof("POST", htu, w.clock(), proofOpts{})); r.status != 200 {
		t.Fatalf("with the bound key: %d %v", r.status, r.body)
	}
	u, _, _ := w.authorize(url.Values{"response_type": {"code"}, "client_id": {spa.ClientID}, "redirect_uri": {redirectBase},
		"scope": {"orders:read"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "dpop_jkt": {"short"}})
	if u == nil || u.Query().Get("error") != "invalid_request" {
		t.Fatalf("malformed dpop_jkt: %v", u)
	}
}

// TestUserinfoDPoP: §7 at a resource endpoint.
func TestUserinfoDPoP(t *testing.T) {
	w := newWorld(t)
	spa := w.spa("orders:read")
	k := newDPoPKey(t)
	code, verifier := w.codeWith(spa.ClientID, "openid email", nil)
	r := w.send("/token", codeForm(spa.ClientID, code, verifier), "", "", k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))
	at := r.str("access_token")
	ui := w.issuer + "/userinfo"
	if r := w.userinfo("DPoP "+at, k.proof("GET", ui, w.clock(), proofOpts{token: at})); r.status != 200 || r.str("sub") != w.user.ID {
		t.Fatalf("DPoP userinfo: %d %v", r.status, r.body)
	}
	for _, tc := range []struct {
		name, auth, proof, code, challenge string
	}{
		{"bound token as Bearer", "Bearer " + at, "", "invalid_token", "Bearer"},
		{"bound token as Bearer with a proof", "Bearer " + at, k.proof("GET", ui, w.clock(), proofOpts{token: at}), "invalid_token", "Bearer"},
		{"DPoP scheme without a proof", "DPoP " + at, "", "invalid_dpop_proof", "DPoP"},
		{"proof without ath", "DPoP " + at, k.proof("GET", ui, w.clock(), proofOpts{}), "invalid_dpop_proof", "DPoP"},
		{"proof for another token", "DPoP " + at, k.proof("GET", ui, w.clock(), proofOpts{token: at + "x"}), "invalid_dpop_proof", "DPoP"},
		{"proof with the wrong htm", "DPoP " + at, k.proof("POST", ui, w.clock(), proofOpts{token: at}), "invalid_dpop_proof", "DPoP"},
		{"proof from another key", "DPoP " + at, newDPoPKey(t).proof("GET", ui, w.clock(), proofOpts{token: at}), "invalid_token", "DPoP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.userinfo(tc.auth, tc.proof)
			wantOAuthError(t, r, 401, tc.code)
			if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, tc.challenge) || !strings.Contains(ch, tc.code) {
				t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// An unbound token with the DPoP scheme is refused too.
	code, verifier = w.codeWith(spa.ClientID, "openid", nil)
	bearer := w.send("/token", codeForm(spa.ClientID, code, verifier), "", "").str("access_token")
	wantOAuthError(t, w.userinfo("DPoP "+bearer, k.proof("GET", ui, w.clock(), proofOpts{token: bearer})), 401, "invalid_token")
	if r := w.userinfo("Bearer "+bearer, ""); r.status != 200 {
		t.Fatalf("bearer userinfo: %d %v", r.status, r.body)
	}
}

// TestDPoPFromBrowserClients: a DPoP header makes a browser preflight the
// request; the preflight is answered and the nonce header is readable, also
// on a refusal written before op sees the request.
func TestDPoPFromBrowserClients(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) { c.DPoPNonce = true })
	spa := w.spa("orders:read")
	for _, path := range []string{"/token", "/par", "/userinfo"} {
		req, _ := http.NewRequest(http.MethodOptions, w.issuer+path, nil)
		req.Header.Set("Origin", "http://127.0.0.1:5173")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,dpop")
		r := w.roundTrip(req)
		if r.status >= 300 || r.header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:5173" ||
			!strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "dpop") {
			t.Fatalf("preflight %s: %d %v", path, r.status, r.header)
		}
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {spa.ClientID}, "code": {"x"}}
	req, _ := http.NewRequest(http.MethodPost, w.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://127.0.0.1:5173")
	req.Header.Set("DPoP", newDPoPKey(t).proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))
	r := w.roundTrip(req)
	wantOAuthError(t, r, 400, "use_dpop_nonce")
	if r.header.Get("Access-Control-Allow-Origin") == "" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "Dpop-Nonce") {
		t.Fatalf("refusal headers %v", r.header)
	}
}

// TestDPoPTokenExchange: the token exchange grant binds too.
func TestDPoPTokenExchange(t *testing.T) {
	w := newWorld(t)
	svc, secret := w.service("orders:read")
	subject := w.send("/token", ccForm, svc.ClientID, secret).str("access_token")
	k := newDPoPKey(t)
	r := w.send("/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token": {subject}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}},
		svc.ClientID, secret, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("exchange: %d %v", r.status, r.body)
	}
	if _, p := claims(t, r.str("access_token")); p["cnf"].(map[string]any)["jkt"] != k.jkt {
		t.Fatalf("cnf %v", p["cnf"])
	}
}

// TestDPoPRequiredByAPI: an API that accepts only sender-constrained tokens
// (RequireSenderConstrained) gets no bearer token from any grant, including
// a code and its refresh token whose resource was named at /authorize only.
func TestDPoPRequiredByAPI(t *testing.T) {
	w := newWorld(t)
	ledger := store.API{Identifier: "https://ledger.example/", Name: "Ledger", RequireSenderConstrained: true,
		Scopes: []store.APIScope{{Name: "ledger:read"}}}
	if err := w.st.CreateAPI(w.ctx, &ledger); err != nil {
		t.Fatal(err)
	}
	htu := w.issuer + "/token"
	k := newDPoPKey(t)

	svc, svcSecret := w.service("ledger:read")
	cc := url.Values{"grant_type": {"client_credentials"}, "resource": {ledger.Identifier}}
	wantOAuthError(t, w.send("/token", cc, svc.ClientID, svcSecret), 400, "invalid_dpop_proof")
	if r := w.send("/token", cc, svc.ClientID, svcSecret, k.proof("POST", htu, w.clock(), proofOpts{})); r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("client credentials with a proof: %d %v", r.status, r.body)
	}
	// Another API of the same client is not held to it.
	if r := w.send("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, svcSecret); r.status != 200 {
		t.Fatalf("client credentials for the issuer: %d %v", r.status, r.body)
	}

	web, secret := w.client(authserver.RegisterInput{Name: "web", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		Scopes: []string{"ledger:read"}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	code, verifier := w.codeWith(web.ClientID, "openid offline_access ledger:read", url.Values{"resource": {ledger.Identifier}})
	form := codeForm(web.ClientID, code, verifier) // no resource: it comes from /authorize
	wantOAuthError(t, w.send("/token", form, web.ClientID, secret), 400, "invalid_dpop_proof")
	r := w.send("/token", form, web.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" || r.str("refresh_token") == "" {
		t.Fatalf("code with a proof: %d %v", r.status, r.body)
	}
	if _, p := claims(t, r.str("access_token")); p["aud"] != ledger.Identifier && !slices.Contains(anyStrings(p["aud"]), ledger.Identifier) {
		t.Fatalf("aud %v", p["aud"])
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}
	wantOAuthError(t, w.send("/token", refresh, web.ClientID, secret), 400, "invalid_dpop_proof")
	if r := w.send("/token", refresh, web.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{})); r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("refresh with a proof: %d %v", r.status, r.body)
	}
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, s := range l {
		if s, ok := s.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestDCRDPoPBoundAccessTokens: RFC 9449 §5.2's dpop_bound_access_tokens in
// dynamic registration is stored, echoed, and enforced: the client's token
// requests without a proof are refused. A later PUT without it does not
// take the promise back.
func TestDCRDPoPBoundAccessTokens(t *testing.T) {
	w := newWorld(t)
	st, b := w.dcr(w.registrationToken(), map[string]any{"client_name": "agent", "grant_types": []string{"client_credentials"},
		"scope": "orders:read", "dpop_bound_access_tokens": true})
	if st != 201 || b["dpop_bound_access_tokens"] != true {
		t.Fatalf("register: %d %v", st, b)
	}
	id, secret := b["client_id"].(string), b["client_secret"].(string)
	if c, err := w.st.ClientByClientID(w.ctx, w.org.ID, id); err != nil || !c.RequireDPoP {
		t.Fatalf("stored: %v require_dpop=%v", err, c.RequireDPoP)
	}
	wantOAuthError(t, w.send("/token", ccForm, id, secret), 400, "invalid_dpop_proof")
	k := newDPoPKey(t)
	if r := w.send("/token", ccForm, id, secret, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})); r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("with proof: %d %v", r.status, r.body)
	}
	body, _ := json.Marshal(map[string]any{"client_id": id, "client_name": "agent", "grant_types": []string{"client_credentials"}, "scope": "orders:read"})
	req, _ := http.NewRequest(http.MethodPut, b["registration_client_uri"].(string), strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b["registration_access_token"].(string))
	if r := w.roundTrip(req); r.status != 200 || r.body["dpop_bound_access_tokens"] != true {
		t.Fatalf("PUT: %d %v", r.status, r.body)
	}
	wantOAuthError(t, w.send("/token", ccForm, id, secret), 400, "invalid_dpop_proof")

	// Without the member, a registered client may use bearer tokens.
	st, b = w.dcr(w.registrationToken(), map[string]any{"client_name": "plain", "grant_types": []string{"client_credentials"}, "scope": "orders:read"})
	if st != 201 || b["dpop_bound_access_tokens"] != nil {
		t.Fatalf("register plain: %d %v", st, b)
	}
	if r := w.send("/token", ccForm, b["client_id"].(string), b["client_secret"].(string)); r.status != 200 || r.str("token_type") != "Bearer" {
		t.Fatalf("plain: %d %v", r.status, r.body)
	}
}

package authserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// partnerIdP is a partner's OpenID provider on 127.0.0.1: discovery and a
// JWKS served by a real HTTP server, tokens signed with go-jose. go-oidc
// accepts it (TestPartnerIdPIsGoOIDCCompatible), so it stands for any
// standard provider. rotate replaces its signing key, as a partner does.
type partnerIdP struct {
	t       *testing.T
	ts      *httptest.Server
	issuer  string
	mu      sync.Mutex
	key     *ecdsa.PrivateKey
	kid     string
	fetches int
}

func newPartnerIdP(t *testing.T) *partnerIdP {
	p := &partnerIdP{t: t}
	p.rotate()
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": p.issuer, "jwks_uri": p.issuer + "/keys",
			"authorization_endpoint": p.issuer + "/authorize", "token_endpoint": p.issuer + "/token",
			"id_token_signing_alg_values_supported": []string{"ES256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.fetches++
		w.Header().Set("Cache-Control", "public, max-age=3600")
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: p.key.Public(), KeyID: p.kid, Algorithm: "ES256", Use: "sig"}}})
	})
	p.ts = httptest.NewServer(mux)
	t.Cleanup(p.ts.Close)
	p.issuer = p.ts.URL
	return p
}

// rotate replaces the signing key; the old one leaves the JWKS at once.
func (p *partnerIdP) rotate() {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.key, p.kid = k, store.NewID()
	p.mu.Unlock()
}

func (p *partnerIdP) fetchCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

// mint signs claims with the current key (ES256, kid set).
func (p *partnerIdP) mint(claims map[string]any) string {
	p.mu.Lock()
	key, kid := p.key, p.kid
	p.mu.Unlock()
	return signJWT(p.t, jose.ES256, key, kid, claims)
}

func signJWT(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), kid).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// loopbackAllowed lets the world's guarded client reach 127.0.0.1 through
// the operator's allow list, as PORTICO_UPSTREAM_ALLOW would.
func loopbackAllowed(c *authserver.Config) {
	c.UpstreamAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

// assertion returns standard claims for the world's clock.
func (w *world) assertion(iss, sub string, extra map[string]any) map[string]any {
	now := w.clock()
	c := map[string]any{"iss": iss, "sub": sub, "aud": w.issuer, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": store.NewID()}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func (w *world) jwtBearer(clientID, secret, assertion string) (int, map[string]any) {
	w.t.Helper()
	f := url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}
	if secret == "" {
		f.Set("client_id", clientID)
		return w.post("/token", f, "", "")
	}
	return w.post("/token", f, clientID, secret)
}

func (w *world) introspectActive(token string, c creds) (bool, map[string]any) {
	w.t.Helper()
	st, in := w.post("/introspect", url.Values{"token": {token}}, c.id, c.secret)
	if st != 200 {
		w.t.Fatalf("introspect: %d %v", st, in)
	}
	return in["active"] == true, in
}

// lastDecision returns the newest decision-log entry of the world's organization.
func (w *world) lastDecision() store.Decision {
	w.t.Helper()
	ds, err := w.st.Decisions(w.ctx, store.DecisionFilter{OrgID: w.org.ID})
	if err != nil || len(ds) == 0 {
		w.t.Fatalf("decisions: %v %d", err, len(ds))
	}
	return ds[0]
}

func TestPartnerIdPIsGoOIDCCompatible(t *testing.T) {
	idp := newPartnerIdP(t)
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, idp.issuer)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok := idp.mint(map[string]any{"iss": idp.issuer, "sub": "u1", "aud": "app", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	v := prov.Verifier(&oidc.Config{ClientID: "app", SupportedSigningAlgs: []string{"ES256"}})
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("go-oidc refuses the test provider's token: %v", err)
	}
}

// TestJWTBearerFromTrustedIssuer: a partner's IdP registered by the
// organization signs assertions; a client bound to it, without a secret of
// its own, trades them for Portico tokens naming the external subject.
// Every refusal is invalid_grant and logged; rotation at the IdP is picked
// up; suspension and removal of the issuer cut access at once.
func TestJWTBearerFromTrustedIssuer(t *testing.T) {
	w := newWorld(t, loopbackAllowed)
	idp := newPartnerIdP(t)
	ti, err := w.srv.Issuers().Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: idp.issuer,
		GroupsClaim: "groups", AttributeClaims: map[string]string{"department": "dept"}, MaxAge: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := w.client(authserver.RegisterInput{Name: "partner-sync", Type: store.ClientService,
		GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none", TrustedIssuerID: ti.ID, Scopes: []string{"orders:read"}})
	api, apiSecret := w.service("orders:read")
	apiC := creds{api.ClientID, apiSecret}

	a := idp.mint(w.assertion(idp.issuer, "alice@partner.example", map[string]any{"groups": []string{"buyers"}, "dept": "sales"}))
	st, tok := w.jwtBearer(bound.ClientID, "", a)
	if st != 200 {
		t.Fatalf("jwt-bearer: %d %v", st, tok)
	}
	at := tok["access_token"].(string)
	_, c := claims(t, at)
	if c["sub"] != "alice@partner.example" || c["ext_iss"] != idp.issuer || c["ext_iss_id"] != ti.ID ||
		c["org"] != "acme" || c["client_id"] != bound.ClientID || c["scope"] != "orders:read" {
		t.Fatalf("claims: %v", c)
	}
	if g, _ := c["groups"].([]any); len(g) != 1 || g[0] != "buyers" {
		t.Fatalf("groups: %v", c["groups"])
	}
	if f, _ := c["features"].([]any); len(f) == 0 {
		t.Fatalf("plan features missing: %v", c)
	}
	if active, in := w.introspectActive(at, apiC); !active || in["ext_iss"] != idp.issuer {
		t.Fatalf("introspection: %v", in)
	}

	// The preview (portico issuer test) shows what would be issued without
	// issuing or using up the jti.
	pa := idp.mint(w.assertion(idp.issuer, "carol", map[string]any{"groups": []string{"buyers", "admins"}}))
	pv, err := w.srv.Issuers().Test(w.ctx, w.org.ID, pa)
	if err != nil || pv.Refused != "" || pv.Subject != "carol" || pv.Org != "acme" || len(pv.Groups) != 2 ||
		pv.IssuerID != ti.ID || len(pv.Features) == 0 {
		t.Fatalf("preview: %+v %v", pv, err)
	}
	if st, b := w.jwtBearer(bound.ClientID, "", pa); st != 200 {
		t.Fatalf("the previewed assertion was used up: %d %v", st, b)
	}
	pv, err = w.srv.Issuers().Test(w.ctx, w.org.ID, idp.mint(w.assertion(idp.issuer, "carol",
		map[string]any{"exp": w.clock().Add(-time.Hour).Unix()})))
	if err != nil || !strings.Contains(pv.Refused, "expired") {
		t.Fatalf("preview of an expired token: %+v %v", pv, err)
	}

	refused := func(name, assertion, want string) {
		t.Helper()
		w.advance(time.Second) // the decision log orders by time
		st, b := w.jwtBearer(bound.ClientID, "", assertion)
		wantError(t, st, b, 400, "invalid_grant")
		if d := w.lastDecision(); d.Point != "jwt_bearer" || d.Action != "deny" || !strings.Contains(d.Reason, want) ||
			d.ClientID != bound.ClientID {
			t.Fatalf("%s: decision %+v, want reason containing %q", name, d, want)
		}
	}
	refused("replay", a, "jti replayed")
	refused("no jti", idp.mint(w.assertion(idp.issuer, "alice", map[string]any{"jti": nil})), "no jti")
	refused("long jti", idp.mint(w.assertion(idp.issuer, "alice", map[string]any{"jti": strings.Repeat("j", 257)})), "longer than 256")
	refused("expired", idp.mint(w.assertion(idp.issuer, "alice", map[string]any{"exp": w.clock().Add(-time.Minute).Unix()})), "expired")
	refused("too old", idp.mint(w.assertion(idp.issuer, "alice", map[string]any{"iat": w.clock().Add(-11 * time.Minute).Unix()})), "maximum age")
	refused("wrong audience", idp.mint(w.assertion(idp.issuer, "alice", map[string]any{"aud": "https://elsewhere.example"})), "audience")
	es384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	refused("algorithm", signJWT(t, jose.ES384, es384, idp.kid, w.assertion(idp.issuer, "alice", nil)), "algorithm")
	refused("HS256", hs256(w.assertion(idp.issuer, "alice", nil), []byte("shared")), "algorithm")
	refused("none", unsigned(w.assertion(idp.issuer, "alice", nil)), "algorithm")
	forged := idp.mint(w.assertion(idp.issuer, "alice", nil))
	parts := strings.Split(forged, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString(mustJSON(w.assertion(idp.issuer, "mallory", nil)))
	refused("bad signature", strings.Join(parts, "."), "signature is bad")
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	refused("foreign key, same kid", signJWT(t, jose.ES256, other, idp.kid, w.assertion(idp.issuer, "alice", nil)), "signature is bad")

	// An issuer another organization registered is no issuer for acme.
	org2 := store.Organization{Slug: "globex", Name: "Globex"}
	if err := w.st.CreateOrganization(w.ctx, &org2); err != nil {
		t.Fatal(err)
	}
	idp2 := newPartnerIdP(t)
	if _, err := w.srv.Issuers().Create(w.ctx, org2.ID, cli, authserver.IssuerInput{Issuer: idp2.issuer}); err != nil {
		t.Fatal(err)
	}
	withSecret, secret := w.client(authserver.RegisterInput{Name: "sync2", Type: store.ClientService,
		GrantTypes: []string{jwtBearerGrant}, Scopes: []string{"orders:read"}})
	w.advance(time.Second)
	st, b := w.jwtBearer(withSecret.ClientID, secret, idp2.mint(w.assertion(idp2.issuer, "eve", nil)))
	wantError(t, st, b, 400, "invalid_grant")
	if d := w.lastDecision(); !strings.Contains(d.Reason, "registered by another organization") {
		t.Fatalf("decision: %+v", d)
	}
	// Its own organization's issuer works for a client with a secret too;
	// the bound client accepts only its own issuer.
	st, b = w.jwtBearer(withSecret.ClientID, secret, idp.mint(w.assertion(idp.issuer, "bob", nil)))
	if st != 200 {
		t.Fatalf("jwt-bearer with a secret: %d %v", st, b)
	}

	// Key rotation at the partner: the first token with the new kid comes
	// within 30 s of the last fetch and is refused without a refetch; after
	// that the keys are fetched again and it verifies.
	fetched := idp.fetchCount()
	idp.rotate()
	refused("rotated too soon", idp.mint(w.assertion(idp.issuer, "alice", nil)), "no key of the issuer")
	if idp.fetchCount() != fetched {
		t.Fatalf("unknown kid refetched within the rate limit (%d -> %d)", fetched, idp.fetchCount())
	}
	w.advance(31 * time.Second)
	if st, b := w.jwtBearer(bound.ClientID, "", idp.mint(w.assertion(idp.issuer, "alice", nil))); st != 200 {
		t.Fatalf("after rotation: %d %v", st, b)
	}
	if idp.fetchCount() != fetched+1 {
		t.Fatalf("fetches %d, want %d", idp.fetchCount(), fetched+1)
	}

	// Suspension ends access at once.
	if active, _ := w.introspectActive(at, apiC); !active {
		t.Fatal("the token is inactive before suspension")
	}
	svc := &partners.Service{Store: w.st, Now: w.clock}
	if _, err := svc.Suspend(w.ctx, cli, "acme"); err != nil {
		t.Fatal(err)
	}
	st, b = w.jwtBearer(bound.ClientID, "", idp.mint(w.assertion(idp.issuer, "alice", nil)))
	if st == 200 {
		t.Fatalf("suspended organization got a token: %v", b)
	}
	if active, _ := w.introspectActive(at, apiC); active {
		t.Fatal("a token issued on a partner's word is active while the organization is suspended")
	}
	if _, err := svc.Reactivate(w.ctx, cli, "acme"); err != nil {
		t.Fatal(err)
	}
	st, tok = w.jwtBearer(bound.ClientID, "", idp.mint(w.assertion(idp.issuer, "alice", nil)))
	if st != 200 {
		t.Fatalf("after reactivation: %d %v", st, tok)
	}
	at = tok["access_token"].(string)

	// Removing the issuer: issued tokens go inactive, the next assertion fails.
	if err := w.srv.Issuers().Delete(w.ctx, org2.ID, ti.ID, cli); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another organization deleted acme's issuer: %v", err)
	}
	if err := w.srv.Issuers().Delete(w.ctx, w.org.ID, ti.ID, cli); err != nil {
		t.Fatal(err)
	}
	if active, _ := w.introspectActive(at, apiC); active {
		t.Fatal("a token issued on a removed issuer's word is still active")
	}
	st, b = w.jwtBearer(bound.ClientID, "", idp.mint(w.assertion(idp.issuer, "alice", nil)))
	if st == 200 {
		t.Fatalf("removed issuer still accepted: %v", b)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func hs256(claims map[string]any, key []byte) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := base64.RawURLEncoding.EncodeToString(mustJSON(claims))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h + "." + p))
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func unsigned(claims map[string]any) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(mustJSON(claims)) + "."
}

// issuerGate records what the gate is asked about external subjects and
// denies one issuer's subjects at the user-access point.
type issuerGate struct {
	mu     sync.Mutex
	asked  []string // point|issuer|subject
	denyIs string
}

func (g *issuerGate) Check(_ context.Context, req authserver.GateRequest) (authserver.Verdict, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if req.Context.Issuer == "" {
		return authserver.Verdict{Action: authserver.Permit}, nil
	}
	sub := ""
	if req.User != nil {
		sub = req.User.Email
	}
	g.asked = append(g.asked, string(req.Point)+"|"+req.Context.Issuer+"|"+sub)
	if req.Point == authserver.PointExternalSubject && req.Context.Issuer == g.denyIs {
		return authserver.Verdict{Action: authserver.Deny, Reason: "partner users may not use this app"}, nil
	}
	return authserver.Verdict{Action: authserver.Permit}, nil
}

// TestTokenExchangeOfAPartnerPorticosTokens: a second Portico (its own
// SQLite, its own keys) is the partner's issuer. Its ID token, exchanged
// here, yields a token naming the partner's user and issuer for an app of
// ours; the policies are asked with the issuer; its access token (not
// addressed to us) is refused; removing the issuer kills everything
// exchanged on its word, down the exchange chain.
func TestTokenExchangeOfAPartnerPorticosTokens(t *testing.T) {
	partner := newWorld(t)
	pweb, pwebSecret := partner.web("orders:read")
	code := partner.codeFor(pweb.ClientID, "openid orders:read", "")
	st, ptok := partner.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, pweb.ClientID, pwebSecret)
	if st != 200 {
		t.Fatalf("partner code exchange: %d %v", st, ptok)
	}
	idToken, partnerAT := ptok["id_token"].(string), ptok["access_token"].(string)

	gate := &issuerGate{}
	w := newWorld(t, loopbackAllowed, func(c *authserver.Config) { c.Gate = authserver.Chain{authserver.DefaultGate{}, gate} })
	gw, gwSecret := w.service("orders:read")
	api, apiSecret := w.service("orders:read")
	gwC, apiC := creds{gw.ClientID, gwSecret}, creds{api.ClientID, apiSecret}
	app, _ := w.web("orders:read") // a user-facing app of ours
	exchange := func(c creds, token, typ, audience string) (int, map[string]any) {
		t.Helper()
		f := url.Values{"grant_type": {exchangeGrant}, "subject_token": {token}, "subject_token_type": {typ}}
		if audience != "" {
			f.Set("audience", audience)
		}
		return w.post("/token", f, c.id, c.secret)
	}
	const idTokenType = "urn:ietf:params:oauth:token-type:id_token"
	const jwtType = "urn:ietf:params:oauth:token-type:jwt"

	// Not registered yet: refused and logged.
	st, b := exchange(gwC, idToken, idTokenType, api.ClientID)
	wantError(t, st, b, 400, "invalid_grant")
	if d := w.lastDecision(); d.Point != "token_exchange" || !strings.Contains(d.Reason, "not trusted") {
		t.Fatalf("decision: %+v", d)
	}

	ti, err := w.srv.Issuers().Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: partner.issuer,
		Audiences: []string{pweb.ClientID}, Algorithms: []string{"RS256", "ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	st, b = exchange(gwC, idToken, idTokenType, api.ClientID)
	if st != 200 {
		t.Fatalf("exchange of the partner's ID token: %d %v", st, b)
	}
	forAPI := b["access_token"].(string)
	_, c := claims(t, forAPI)
	if c["sub"] != partner.user.ID || c["ext_iss"] != partner.issuer || c["org"] != "acme" || c["org_id"] != w.org.ID {
		t.Fatalf("claims: %v", c)
	}
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != api.ClientID {
		t.Fatalf("aud: %v", c["aud"])
	}
	gate.mu.Lock()
	asked := strings.Join(gate.asked, "\n")
	gate.mu.Unlock()
	for _, want := range []string{"token_exchange|" + partner.issuer + "|"} {
		if !strings.Contains(asked, want) {
			t.Fatalf("the gate was not asked %q:\n%s", want, asked)
		}
	}
	// The same token as urn:…:jwt works too; the partner's access token is
	// addressed to the partner, not to an audience this issuer may name.
	if st, b := exchange(gwC, idToken, jwtType, ""); st != 200 {
		t.Fatalf("as jwt: %d %v", st, b)
	}
	w.advance(time.Second) // the decision log orders by time
	st, b = exchange(gwC, partnerAT, jwtType, "")
	wantError(t, st, b, 400, "invalid_grant")
	if d := w.lastDecision(); !strings.Contains(d.Reason, "audience") {
		t.Fatalf("decision: %+v", d)
	}

	// The API exchanges its token onwards (it names the API in aud); the
	// result still names the partner issuer.
	st, b = exchange(apiC, forAPI, accessTokenType, "")
	if st != 200 {
		t.Fatalf("onward exchange: %d %v", st, b)
	}
	onward := b["access_token"].(string)
	if _, c := claims(t, onward); c["ext_iss_id"] != ti.ID {
		t.Fatalf("onward claims: %v", c)
	}

	// The user-facing app is asked as user access, with the issuer; a
	// policy denying the partner's users there makes it invalid_target.
	if st, b := exchange(gwC, idToken, idTokenType, app.ClientID); st != 200 {
		t.Fatalf("exchange for the app: %d %v", st, b)
	}
	gate.mu.Lock()
	asked = strings.Join(gate.asked, "\n")
	gate.denyIs = partner.issuer
	gate.mu.Unlock()
	if want := "external_subject|" + partner.issuer + "|" + partner.user.ID; !strings.Contains(asked, want) {
		t.Fatalf("the gate was not asked %q:\n%s", want, asked)
	}
	st, b = exchange(gwC, idToken, idTokenType, app.ClientID)
	wantError(t, st, b, 400, "invalid_target")
	gate.mu.Lock()
	gate.denyIs = ""
	gate.mu.Unlock()

	for _, tok := range []string{forAPI, onward} {
		if active, in := w.introspectActive(tok, apiC); !active || in["ext_iss"] != partner.issuer {
			t.Fatalf("introspection before removal: %v", in)
		}
	}
	if err := w.srv.Issuers().Delete(w.ctx, w.org.ID, ti.ID, cli); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{forAPI, onward} {
		if active, _ := w.introspectActive(tok, apiC); active {
			t.Fatal("a token exchanged on a removed issuer's word is still active")
		}
	}
	st, b = exchange(gwC, idToken, idTokenType, api.ClientID)
	wantError(t, st, b, 400, "invalid_grant")
}

// TestTrustedIssuerRegistration: bad input is refused field by field and
// nothing is stored; none/HS* are never accepted; a service without
// credentials must use only jwt-bearer and be bound to an issuer of its
// own organization.
func TestTrustedIssuerRegistration(t *testing.T) {
	w := newWorld(t)
	iss := w.srv.Issuers()
	_, err := iss.Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: "ftp://x", JWKSURI: "not a url",
		Algorithms: []string{"HS256", "none", "RS1"}, MaxAge: 48 * time.Hour})
	var ve *authserver.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	for _, f := range []string{"issuer", "jwks_uri", "algorithms[0]", "algorithms[1]", "algorithms[2]", "max_age"} {
		found := false
		for _, fe := range ve.Fields {
			found = found || fe.Field == f
		}
		if !found {
			t.Errorf("no error for %s: %v", f, ve)
		}
	}
	if _, err := iss.Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: w.issuer}); !errors.As(err, &ve) ||
		!strings.Contains(err.Error(), "Portico itself") {
		t.Fatalf("Portico as its own trusted issuer: %v", err)
	}
	if l, _ := iss.List(w.ctx, w.org.ID); len(l) != 0 {
		t.Fatalf("stored despite errors: %v", l)
	}
	ti, err := iss.Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: "https://idp.partner.example"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ti.Algorithms, ",") != "RS256,ES256,PS256,EdDSA" || ti.SubjectClaim != "sub" {
		t.Fatalf("defaults: %+v", ti)
	}
	if _, err := iss.Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: "https://idp.partner.example"}); !errors.As(err, &ve) {
		t.Fatalf("duplicate: %v", err)
	}
	org2 := store.Organization{Slug: "globex", Name: "Globex"}
	if err := w.st.CreateOrganization(w.ctx, &org2); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Get(w.ctx, org2.ID, ti.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-organization read: %v", err)
	}

	register := func(in authserver.RegisterInput) error {
		in.Name, in.Type = "sync", store.ClientService
		_, _, err := w.reg.Register(w.ctx, w.org.ID, cli, in)
		return err
	}
	if err := register(authserver.RegisterInput{GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none"}); !errors.As(err, &ve) ||
		!strings.Contains(err.Error(), "trusted_issuer") {
		t.Fatalf("unbound none client: %v", err)
	}
	if err := register(authserver.RegisterInput{GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: "none",
		TrustedIssuerID: ti.ID}); !errors.As(err, &ve) {
		t.Fatalf("none client with client_credentials: %v", err)
	}
	ti2, err := iss.Create(w.ctx, org2.ID, cli, authserver.IssuerInput{Issuer: "https://idp.globex.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := register(authserver.RegisterInput{GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none",
		TrustedIssuerID: ti2.ID}); !errors.As(err, &ve) {
		t.Fatalf("bound to another organization's issuer: %v", err)
	}
	if n, _ := w.st.CountClients(w.ctx, w.org.ID); n != 0 {
		t.Fatalf("%d clients stored despite refusals", n)
	}
	if err := register(authserver.RegisterInput{GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none",
		TrustedIssuerID: ti.ID}); err != nil {
		t.Fatal(err)
	}
	// Discovery advertises the grant.
	st, doc := w.do(mustGet(t, w.issuer+"/.well-known/openid-configuration"))
	if st != 200 || !strings.Contains(strings.Join(anyStrings(doc["grant_types_supported"]), " "), jwtBearerGrant) {
		t.Fatalf("discovery: %v", doc["grant_types_supported"])
	}
}

// TestJWTBearerWithAPartnerPorticosServiceTokens: the partner runs its own
// Portico; its service's client_credentials token (ES256, jti) is the
// assertion. A client of ours bound to that issuer, without a secret,
// gets a token naming the partner's service; the same assertion twice is
// a replay; after the partner rotates its signing keys, the new kid is
// fetched once the rate limit allows.
func TestJWTBearerWithAPartnerPorticosServiceTokens(t *testing.T) {
	partner := newWorld(t)
	psvc, psecret := partner.service("orders:read")
	mint := func() string {
		t.Helper()
		st, b := partner.post("/token", url.Values{"grant_type": {"client_credentials"}}, psvc.ClientID, psecret)
		if st != 200 {
			t.Fatalf("partner client_credentials: %d %v", st, b)
		}
		return b["access_token"].(string)
	}
	w := newWorld(t, loopbackAllowed)
	ti, err := w.srv.Issuers().Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: partner.issuer,
		Audiences: []string{partner.issuer}, MaxAge: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := w.client(authserver.RegisterInput{Name: "partner-svc", Type: store.ClientService,
		GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none", TrustedIssuerID: ti.ID, Scopes: []string{"orders:read"}})
	a := mint()
	st, tok := w.jwtBearer(bound.ClientID, "", a)
	if st != 200 {
		t.Fatalf("jwt-bearer: %d %v", st, tok)
	}
	if _, c := claims(t, tok["access_token"].(string)); c["sub"] != psvc.ClientID || c["ext_iss"] != partner.issuer {
		t.Fatalf("claims: %v", c)
	}
	st, b := w.jwtBearer(bound.ClientID, "", a)
	wantError(t, st, b, 400, "invalid_grant")
	// Without client_id the client is unknown: invalid_client.
	st, b = w.post("/token", url.Values{"grant_type": {jwtBearerGrant}, "assertion": {mint()}}, "", "")
	wantError(t, st, b, 401, "invalid_client")

	if _, err := authserver.RotateKeys(partner.ctx, partner.st, partner.sealer, cli, partner.clock()); err != nil {
		t.Fatal(err)
	}
	rotated := mint()
	w.advance(time.Second) // the decision log orders by time
	st, b = w.jwtBearer(bound.ClientID, "", rotated)
	wantError(t, st, b, 400, "invalid_grant")
	if d := w.lastDecision(); !strings.Contains(d.Reason, "no key of the issuer") {
		t.Fatalf("decision: %+v", d)
	}
	w.advance(31 * time.Second)
	if st, b := w.jwtBearer(bound.ClientID, "", mint()); st != 200 {
		t.Fatalf("after the partner's rotation: %d %v", st, b)
	}
}

// TestJWTBearerHonoursDPoP: the jwt-bearer grant binds its token to a DPoP
// proof's key like the other grants, and a client that requires DPoP gets
// no bearer token from it.
func TestJWTBearerHonoursDPoP(t *testing.T) {
	w := newWorld(t, loopbackAllowed)
	idp := newPartnerIdP(t)
	ti, err := w.srv.Issuers().Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: idp.issuer, MaxAge: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := w.client(authserver.RegisterInput{Name: "partner-sync", Type: store.ClientService,
		GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none", TrustedIssuerID: ti.ID, Scopes: []string{"orders:read"}})
	form := func() url.Values {
		return url.Values{"grant_type": {jwtBearerGrant}, "client_id": {bound.ClientID},
			"assertion": {idp.mint(w.assertion(idp.issuer, "alice", nil))}}
	}
	k := newDPoPKey(t)
	r := w.send("/token", form(), "", "", k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("jwt-bearer with DPoP: %d %v", r.status, r.body)
	}
	if _, p := claims(t, r.str("access_token")); p["cnf"] == nil || p["cnf"].(map[string]any)["jkt"] != k.jkt {
		t.Fatalf("cnf %v, want jkt %s", p["cnf"], k.jkt)
	}
	// A bad proof is refused, not ignored.
	r = w.send("/token", form(), "", "", k.proof("GET", w.issuer+"/token", w.clock(), proofOpts{}))
	wantOAuthError(t, r, 400, "invalid_dpop_proof")

	on := true
	if _, err := w.reg.SetSecurity(w.ctx, w.org.ID, bound.ClientID, cli, authserver.ClientSecurity{RequireDPoP: &on}); err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, w.send("/token", form(), "", ""), 400, "invalid_dpop_proof")
	if r := w.send("/token", form(), "", "", k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})); r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("required DPoP with proof: %d %v", r.status, r.body)
	}
}

package authserver_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
)

// pushed posts an authorization request to /par.
func (w *world) push(params url.Values, basicID, basicSecret string, proofs ...string) reply {
	w.t.Helper()
	return w.send("/par", params, basicID, basicSecret, proofs...)
}

func authParams(clientID, challenge string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectBase},
		"scope": {"openid orders:read"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
}

// authorizeURI sends the browser to /authorize with a request_uri.
func (w *world) authorizeURI(clientID, requestURI string) (*url.URL, int, string) {
	w.t.Helper()
	return w.authorize(url.Values{"client_id": {clientID}, "request_uri": {requestURI}})
}

func TestPushedAuthorizationRequest(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read")
	verifier, challenge := pkce()
	r := w.push(authParams(web.ClientID, challenge), web.ClientID, secret)
	ru := r.str("request_uri")
	if r.status != http.StatusCreated || !strings.HasPrefix(ru, "urn:ietf:params:oauth:request_uri:") ||
		r.body["expires_in"] != float64(60) || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("par: %d %v %v", r.status, r.body, r.header)
	}
	// The browser carries only client_id and request_uri; anything else it
	// adds is ignored in favour of the pushed parameters.
	u, status, body := w.authorize(url.Values{"client_id": {web.ClientID}, "request_uri": {ru}, "scope": {"admin:all"},
		"redirect_uri": {"http://127.0.0.1:9/evil"}})
	if u == nil || u.Query().Get("code") == "" || u.Query().Get("iss") != w.issuer || u.Query().Get("state") != "st" {
		t.Fatalf("authorize: %d %v %s", status, u, body)
	}
	tok := w.send("/token", codeForm(web.ClientID, u.Query().Get("code"), verifier), web.ClientID, secret)
	if tok.status != 200 || tok.str("scope") != "openid orders:read" {
		t.Fatalf("token: %d %v", tok.status, tok.body)
	}
}

// TestRequestURIErrors: RFC 9126 §4 — an unknown, used, expired or other
// client's request_uri is invalid_request_uri, shown, not redirected.
func TestRequestURIErrors(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read")
	other, _ := w.web("orders:read")
	_, challenge := pkce()
	push := func() string {
		return w.push(authParams(web.ClientID, challenge), web.ClientID, secret).str("request_uri")
	}
	used := push()
	if u, _, _ := w.authorizeURI(web.ClientID, used); u == nil || u.Query().Get("code") == "" {
		t.Fatal("first use failed")
	}
	expired := push()
	stolen := push()
	for _, tc := range []struct {
		name, clientID, uri string
		before              func()
		code                string
	}{
		{"unknown", web.ClientID, "urn:ietf:params:oauth:request_uri:nope", nil, "invalid_request_uri"},
		{"not ours", web.ClientID, "https://client.example/request.jwt", nil, "invalid_request_uri"},
		{"replayed", web.ClientID, used, nil, "invalid_request_uri"},
		{"other client", other.ClientID, stolen, nil, "invalid_request_uri"},
		{"expired", web.ClientID, expired, func() { w.advance(61 * time.Second) }, "invalid_request_uri"},
		{"no client_id", "", stolen, nil, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			q := url.Values{"request_uri": {tc.uri}}
			if tc.clientID != "" {
				q.Set("client_id", tc.clientID)
			}
			u, status, body := w.authorize(q)
			if u != nil || status != 400 || !strings.Contains(body, `"error":"`+tc.code+`"`) {
				t.Fatalf("got %d %v %s", status, u, body)
			}
		})
	}
	// The other client's attempt did not consume it: the owner still can
	// (before it expires).
	w2 := newWorld(t)
	web2, secret2 := w2.web("orders:read")
	other2, _ := w2.web("orders:read")
	ru := w2.push(authParams(web2.ClientID, challenge), web2.ClientID, secret2).str("request_uri")
	w2.authorizeURI(other2.ClientID, ru)
	if u, _, body := w2.authorizeURI(web2.ClientID, ru); u == nil || u.Query().Get("code") == "" {
		t.Fatalf("owner after another client's attempt: %v %s", u, body)
	}
}

// TestPARRequestErrors: the pushed request is validated as /authorize
// would, and authenticated as /token is.
func TestPARRequestErrors(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read")
	spa := w.spa("orders:read")
	_, challenge := pkce()
	with := func(change func(url.Values)) url.Values {
		p := authParams(web.ClientID, challenge)
		change(p)
		return p
	}
	for _, tc := range []struct {
		name           string
		params         url.Values
		id, secret     string
		status         int
		code           string
		wantChallenge  bool
		noClientHeader bool
	}{
		{"wrong secret", authParams(web.ClientID, challenge), web.ClientID, "wrong", 401, "invalid_client", true, false},
		{"no authentication", authParams(web.ClientID, challenge), "", "", 401, "invalid_client", true, false},
		{"unregistered redirect_uri", with(func(p url.Values) { p.Set("redirect_uri", "http://127.0.0.1:9/other") }), web.ClientID, secret, 400, "invalid_request", false, false},
		{"no redirect_uri", with(func(p url.Values) { p.Del("redirect_uri") }), web.ClientID, secret, 400, "invalid_request", false, false},
		{"request_uri inside", with(func(p url.Values) { p.Set("request_uri", "urn:x") }), web.ClientID, secret, 400, "invalid_request", false, false},
		{"request object", with(func(p url.Values) { p.Set("request", "e30.e30.") }), web.ClientID, secret, 400, "request_not_supported", false, false},
		{"implicit", with(func(p url.Values) { p.Set("response_type", "token") }), web.ClientID, secret, 400, "unsupported_response_type", false, false},
		{"plain PKCE", with(func(p url.Values) { p.Set("code_challenge_method", "plain") }), web.ClientID, secret, 400, "invalid_request", false, false},
		{"disallowed scope", with(func(p url.Values) { p.Set("scope", "admin:all") }), web.ClientID, secret, 400, "invalid_scope", false, false},
		{"other client_id in body", with(func(p url.Values) { p.Set("client_id", spa.ClientID) }), web.ClientID, secret, 400, "invalid_request", false, false},
		{"public client without PKCE", func() url.Values {
			p := authParams(spa.ClientID, challenge)
			p.Del("code_challenge")
			p.Del("code_challenge_method")
			return p
		}(), "", "", 400, "invalid_request", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.push(tc.params, tc.id, tc.secret)
			wantOAuthError(t, r, tc.status, tc.code)
			if tc.wantChallenge && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("401 without challenge: %v", r.header)
			}
		})
	}
	// GET and query parameters are refused like at /token.
	resp, err := http.Get(w.issuer + "/par?client_id=" + web.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /par: %d", resp.StatusCode)
	}
	// A public client pushes with its client_id alone.
	if r := w.push(authParams(spa.ClientID, challenge), "", ""); r.status != 201 {
		t.Fatalf("public client: %d %v", r.status, r.body)
	}
}

func TestPARRequired(t *testing.T) {
	t.Run("by the client", func(t *testing.T) {
		w := newWorld(t)
		web, secret := w.web("orders:read")
		on := true
		if _, err := w.reg.SetSecurity(w.ctx, w.org.ID, web.ClientID, cli, authserver.ClientSecurity{RequirePAR: &on}); err != nil {
			t.Fatal(err)
		}
		_, challenge := pkce()
		u, _, body := w.authorize(authParams(web.ClientID, challenge))
		if u == nil || u.Query().Get("error") != "invalid_request" || u.Query().Get("iss") != w.issuer {
			t.Fatalf("unpushed request: %v %s", u, body)
		}
		ru := w.push(authParams(web.ClientID, challenge), web.ClientID, secret).str("request_uri")
		if u, _, body := w.authorizeURI(web.ClientID, ru); u == nil || u.Query().Get("code") == "" {
			t.Fatalf("pushed request: %v %s", u, body)
		}
		// Other clients are not affected.
		spa := w.spa("orders:read")
		if u, _, _ := w.authorize(authParams(spa.ClientID, challenge)); u == nil || u.Query().Get("code") == "" {
			t.Fatal("another client had to push")
		}
	})
	t.Run("by the server", func(t *testing.T) {
		w := newWorld(t, func(c *authserver.Config) { c.RequirePAR = true })
		spa := w.spa("orders:read")
		_, challenge := pkce()
		if u, _, _ := w.authorize(authParams(spa.ClientID, challenge)); u == nil || u.Query().Get("error") != "invalid_request" {
			t.Fatalf("unpushed request: %v", u)
		}
		var meta map[string]any
		resp, _ := http.Get(w.issuer + "/.well-known/openid-configuration")
		decodeJSON(t, resp, &meta)
		if meta["require_pushed_authorization_requests"] != true {
			t.Fatalf("metadata %v", meta)
		}
	})
}

func TestDiscoveryAdvertisesPARAndDPoP(t *testing.T) {
	w := newWorld(t)
	var meta map[string]any
	resp, err := http.Get(w.issuer + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	decodeJSON(t, resp, &meta)
	var algs []string
	for _, a := range meta["dpop_signing_alg_values_supported"].([]any) {
		algs = append(algs, a.(string))
	}
	if meta["pushed_authorization_request_endpoint"] != w.issuer+"/par" || meta["require_pushed_authorization_requests"] != nil ||
		!slices.Equal(algs, []string{"ES256", "PS256", "EdDSA", "RS256"}) || meta["authorization_response_iss_parameter_supported"] != true {
		t.Fatalf("metadata %v", meta)
	}
	// Each claim holds. PAR: the advertised endpoint takes a push.
	spa := w.spa("orders:read")
	_, challenge := pkce()
	if r := w.push(authParams(spa.ClientID, challenge), "", ""); r.status != 201 || r.str("request_uri") == "" {
		t.Fatalf("push to the advertised endpoint: %d %v", r.status, r.body)
	}
	// iss (RFC 9207): in the authorization response, success and error.
	if u, _, _ := w.authorize(authParams(spa.ClientID, challenge)); u == nil || u.Query().Get("iss") != w.issuer {
		t.Fatalf("authorization response without iss: %v", u)
	}
	// DPoP: every advertised algorithm is accepted at the advertised token
	// endpoint (one outside the list is not: TestDPoPProofErrors).
	// Resource indicators (RFC 8707) have no authorization server metadata
	// member; an API's protected resource metadata (RFC 9728) names this
	// issuer instead (TestProtectedResourceMetadata), and an unknown
	// resource is invalid_target.
	c, secret := w.service("orders:read")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[string]*dpopKey{"ES256": newDPoPKey(t), "PS256": dpopKeyOf(t, rsaKey, jose.PS256),
		"EdDSA": dpopKeyOf(t, edKey, jose.EdDSA), "RS256": dpopKeyOf(t, rsaKey, jose.RS256)}
	for _, alg := range algs {
		k := keys[alg]
		if r := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", meta["token_endpoint"].(string), w.clock(), proofOpts{})); r.status != 200 || r.str("token_type") != "DPoP" {
			t.Fatalf("DPoP %s at the advertised token endpoint: %d %v", alg, r.status, r.body)
		}
	}
	f := url.Values{"grant_type": {"client_credentials"}, "resource": {"https://unknown.example/api"}}
	wantOAuthError(t, w.send("/token", f, c.ClientID, secret), 400, "invalid_target")
	if _, ok := meta["resource_indicators_supported"]; ok {
		t.Fatal("a made-up metadata member")
	}
}

// TestPARWithDPoPBindsTheCode: RFC 9449 §10.1 — a DPoP proof at /par binds
// the code to its key like dpop_jkt.
func TestPARWithDPoPBindsTheCode(t *testing.T) {
	w := newWorld(t)
	spa := w.spa("orders:read")
	k := newDPoPKey(t)
	verifier, challenge := pkce()
	r := w.push(authParams(spa.ClientID, challenge), "", "", k.proof("POST", w.issuer+"/par", w.clock(), proofOpts{}))
	u, _, body := w.authorizeURI(spa.ClientID, r.str("request_uri"))
	if u == nil || u.Query().Get("code") == "" {
		t.Fatalf("authorize: %v %s", u, body)
	}
	form := codeForm(spa.ClientID, u.Query().Get("code"), verifier)
	wantOAuthError(t, w.send("/token", form, "", "", newDPoPKey(t).proof("POST", w.issuer+"/token", w.clock(), proofOpts{})), 400, "invalid_grant")
	if r := w.send("/token", form, "", "", k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})); r.status != 200 {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	// A dpop_jkt that disagrees with the proof is refused at /par.
	p := authParams(spa.ClientID, challenge)
	p.Set("dpop_jkt", newDPoPKey(t).jkt)
	wantOAuthError(t, w.push(p, "", "", k.proof("POST", w.issuer+"/par", w.clock(), proofOpts{})), 400, "invalid_dpop_proof")
}

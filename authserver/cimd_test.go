package authserver_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
)

// docServer serves client metadata documents over TLS on 127.0.0.1: path
// -> document (with "{URL}" replaced by the document's own URL) and the
// Cache-Control header to send.
type docServer struct {
	ts    *httptest.Server
	docs  map[string]string
	cache map[string]string
	ctype map[string]string
	hits  atomic.Int64
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{docs: map[string]string{}, cache: map[string]string{}, ctype: map[string]string{}}
	d.ts = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		doc, ok := d.docs[r.URL.Path]
		if !ok {
			http.NotFound(rw, r)
			return
		}
		if cc := d.cache[r.URL.Path]; cc != "" {
			rw.Header().Set("Cache-Control", cc)
		}
		ct := d.ctype[r.URL.Path]
		if ct == "" {
			ct = "application/json"
		}
		rw.Header().Set("Content-Type", ct)
		rw.Write([]byte(strings.ReplaceAll(doc, "{URL}", d.ts.URL+r.URL.Path)))
	}))
	t.Cleanup(d.ts.Close)
	return d
}

func (d *docServer) url(path string) string { return d.ts.URL + path }

// metadataWorld is a world whose server accepts metadata-document clients
// served by d: 127.0.0.1 allowed by the operator's list, d's certificate
// trusted.
func metadataWorld(t *testing.T, d *docServer, enabled bool) *world {
	pool := x509.NewCertPool()
	pool.AddCert(d.ts.Certificate())
	return newWorld(t, func(c *authserver.Config) {
		c.UpstreamAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.ClientMetadata = authserver.ClientMetadataConfig{Enabled: enabled, RootCAs: pool}
	})
}

const goodDoc = `{"client_id":"{URL}","client_name":"Agent Smith","logo_uri":"https://agent.example/logo.png",
	"redirect_uris":["` + redirectBase + `"],"grant_types":["authorization_code","refresh_token"],
	"token_endpoint_auth_method":"none"}`

func TestClientMetadataDocumentFlow(t *testing.T) {
	d := newDocServer(t)
	d.docs["/agent.json"] = goodDoc
	d.cache["/agent.json"] = "max-age=3600"
	w := metadataWorld(t, d, true)
	w.apis()
	id := d.url("/agent.json")

	verifier, challenge := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirectBase},
		"scope": {"offline_access inv:read"}, "state": {"st"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "resource": {invAPI}}
	u, status, body := w.authorize(q)
	if u == nil || u.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v %s", status, u, body)
	}
	st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
		"redirect_uri": {redirectBase}, "code_verifier": {verifier}, "client_id": {id}}, "", "")
	if st != 200 {
		t.Fatalf("token: %d %v", st, tok)
	}
	_, p := claims(t, tok["access_token"].(string))
	if p["client_id"] != id || p["aud"].([]any)[0] != invAPI || p["org"] != "acme" || p["sub"] != w.user.ID {
		t.Fatalf("claims %v", p)
	}
	st, tok = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
		"client_id": {id}}, "", "")
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, tok)
	}
	if n := d.hits.Load(); n != 1 {
		t.Errorf("max-age=3600: fetched %d times, want 1", n)
	}

	// Discovery says so.
	req, _ := http.NewRequest(http.MethodGet, w.issuer+"/.well-known/oauth-authorization-server", nil)
	if _, meta := w.do(req); meta["client_id_metadata_document_supported"] != true {
		t.Errorf("discovery: %v", meta["client_id_metadata_document_supported"])
	}

	// The organization refuses such clients: the sign-in ends in access_denied.
	if err := w.st.SetOrgAllowsClientMetadata(w.ctx, w.org.ID, false); err != nil {
		t.Fatal(err)
	}
	u, _, _ = w.authorize(q)
	if u == nil || u.Query().Get("error") != "access_denied" {
		t.Fatalf("org refusing metadata clients: %v", u)
	}
}

func TestClientMetadataDocumentRefusals(t *testing.T) {
	d := newDocServer(t)
	good := func(edit func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(goodDoc), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	d.docs["/ok.json"] = goodDoc
	d.docs["/other-id.json"] = good(func(m map[string]any) { m["client_id"] = "https://evil.example/agent.json" })
	d.docs["/secret.json"] = good(func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_basic" })
	d.docs["/with-secret.json"] = good(func(m map[string]any) { m["client_secret"] = "s3cret" })
	d.docs["/cc.json"] = good(func(m map[string]any) { m["grant_types"] = []string{"authorization_code", "client_credentials"} })
	d.docs["/jwt-no-jwks.json"] = good(func(m map[string]any) { m["token_endpoint_auth_method"] = "private_key_jwt" })
	d.docs["/no-redirects.json"] = good(func(m map[string]any) { delete(m, "redirect_uris") })
	d.docs["/bad-redirect.json"] = good(func(m map[string]any) { m["redirect_uris"] = []string{"http://evil.example/cb"} })
	d.docs["/html.json"] = goodDoc
	d.ctype["/html.json"] = "text/html"
	d.docs["/big.json"] = good(func(m map[string]any) { m["client_name"] = strings.Repeat("x", 11<<10) })
	w := metadataWorld(t, d, true)

	authz := func(clientID, redirect string) (*url.URL, int) {
		_, challenge := pkce()
		u, status, _ := w.authorize(url.Values{"response_type": {"code"}, "client_id": {clientID},
			"redirect_uri": {redirect}, "scope": {"openid"}, "state": {"st"}, "code_challenge": {challenge},
			"code_challenge_method": {"S256"}})
		return u, status
	}
	cases := []struct{ name, clientID, redirect string }{
		{"client_id differs from the URL", d.url("/other-id.json"), redirectBase},
		{"client secret authentication", d.url("/secret.json"), redirectBase},
		{"a secret in the document", d.url("/with-secret.json"), redirectBase},
		{"client_credentials grant", d.url("/cc.json"), redirectBase},
		{"private_key_jwt without jwks_uri", d.url("/jwt-no-jwks.json"), redirectBase},
		{"no redirect URIs", d.url("/no-redirects.json"), redirectBase},
		{"http redirect URI on a public host", d.url("/bad-redirect.json"), "http://evil.example/cb"},
		{"not JSON", d.url("/html.json"), redirectBase},
		{"larger than 10 KiB", d.url("/big.json"), redirectBase},
		{"redirect URI not exactly registered (other loopback port)", d.url("/ok.json"), "http://127.0.0.1:10/cb"},
		{"no such document", d.url("/missing.json"), redirectBase},
		{"document URL without a path", d.ts.URL, redirectBase},
		{"document URL over http", strings.Replace(d.url("/ok.json"), "https:", "http:", 1), redirectBase},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if u, status := authz(tc.clientID, tc.redirect); status != http.StatusBadRequest || u != nil {
				t.Fatalf("want a 400 page and no redirect, got %d %v", status, u)
			}
		})
	}
	if u, _ := authz(d.url("/ok.json"), redirectBase); u == nil || u.Query().Get("code") == "" {
		t.Fatalf("the good document in the same world: %v", u)
	}
}

func TestClientMetadataDocumentSwitchesAndGuard(t *testing.T) {
	d := newDocServer(t)
	d.docs["/agent.json"] = goodDoc
	d.cache["/agent.json"] = "no-store"
	authz := func(w *world) *url.URL {
		_, challenge := pkce()
		u, _, _ := w.authorize(url.Values{"response_type": {"code"}, "client_id": {d.url("/agent.json")},
			"redirect_uri": {redirectBase}, "scope": {"openid"}, "state": {"st"}, "code_challenge": {challenge},
			"code_challenge_method": {"S256"}})
		return u
	}
	if u := authz(metadataWorld(t, d, false)); u != nil {
		t.Fatalf("platform setting deny: %v", u)
	}
	if d.hits.Load() != 0 {
		t.Fatal("a refused client must not be fetched")
	}
	// Without 127.0.0.1 on the operator's allow list the guard refuses it.
	pool := x509.NewCertPool()
	pool.AddCert(d.ts.Certificate())
	guarded := newWorld(t, func(c *authserver.Config) {
		c.ClientMetadata = authserver.ClientMetadataConfig{Enabled: true, RootCAs: pool}
	})
	if u := authz(guarded); u != nil || d.hits.Load() != 0 {
		t.Fatalf("loopback document fetched through the guard: %v", u)
	}
	// no-store: fetched every time.
	w := metadataWorld(t, d, true)
	for range 2 {
		if u := authz(w); u == nil || u.Query().Get("code") == "" {
			t.Fatalf("authorize: %v", u)
		}
	}
	if n := d.hits.Load(); n < 2 {
		t.Errorf("no-store document fetched %d times", n)
	}
	// The login page can show what the client says about itself.
	_, challenge := pkce()
	w.login = func(id string) authserver.LoginUser {
		m, ok, err := w.srv.ClientMetadataOf(w.ctx, id)
		if err != nil || !ok || m.Name != "Agent Smith" || m.Domain != "127.0.0.1" || m.LogoURI != "https://agent.example/logo.png" {
			t.Errorf("ClientMetadataOf: %+v %v %v", m, ok, err)
		}
		return authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock()}
	}
	w.authorize(url.Values{"response_type": {"code"}, "client_id": {d.url("/agent.json")},
		"redirect_uri": {redirectBase}, "scope": {"openid"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
}

// TestClientMetadataDocumentPrivateKeyJWT: a confidential metadata-document
// client authenticates with private_key_jwt against the keys at its
// jwks_uri; a wrong key or no assertion is invalid_client.
func TestClientMetadataDocumentPrivateKeyJWT(t *testing.T) {
	d := newDocServer(t)
	key, err := rsaKey()
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	d.docs["/jwks"] = string(jwks)
	d.docs["/agent.json"] = `{"client_id":"{URL}","client_name":"Backend agent","redirect_uris":["` + redirectBase + `"],
		"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"` + d.url("/jwks") + `"}`
	pool := x509.NewCertPool()
	pool.AddCert(d.ts.Certificate())
	w := newWorld(t, func(c *authserver.Config) {
		c.UpstreamAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.ClientMetadata = authserver.ClientMetadataConfig{Enabled: true, RootCAs: pool}
		c.HTTPClient = d.ts.Client() // the jwks_uri fetch trusts the test server too
	})
	id := d.url("/agent.json")
	code := func() string {
		u, _, _ := w.authorize(url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirectBase},
			"scope": {"openid"}, "state": {"st"}})
		if u == nil || u.Query().Get("code") == "" {
			t.Fatalf("authorize: %v", u)
		}
		return u.Query().Get("code")
	}
	other, _ := rsaKey()
	for _, tc := range []struct {
		name string
		key  *rsa.PrivateKey
		want int
	}{{"wrong key", other, 401}, {"right key", key, 200}} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code()},
				"redirect_uri": {redirectBase}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion": {signAssertion(t, tc.key, "k1", id, w.issuer+"/token", w.clock())}}, "", "")
			if st != tc.want {
				t.Fatalf("%d %v", st, body)
			}
		})
	}
	st, body := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code()},
		"redirect_uri": {redirectBase}, "client_id": {id}}, "", "")
	wantError(t, st, body, 401, "invalid_client")
}

package authserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/store"
)

// TestEvery401FromTokenCarriesAChallenge: RFC 9110 §15.5.2 wants a
// WWW-Authenticate on every 401, not only after Basic.
func TestEvery401FromTokenCarriesAChallenge(t *testing.T) {
	w := newWorld(t)
	svc, _ := w.service("orders:read")
	key, _ := rsaKey()
	pub := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	jwks, _ := json.Marshal(pub)
	jc, _ := w.client(authserver.RegisterInput{Name: "jwt", Type: store.ClientService, Scopes: []string{"orders:read"},
		TokenEndpointAuthMethod: "private_key_jwt", JWKS: string(jwks)})
	other, _ := rsaKey()
	for name, form := range map[string]url.Values{
		"client_secret_post": {"grant_type": {"client_credentials"}, "client_id": {svc.ClientID}, "client_secret": {"wrong"}},
		"private_key_jwt": {"grant_type": {"client_credentials"},
			"client_assertion":      {signAssertion(t, other, "k1", jc.ClientID, w.issuer+"/token", w.clock())},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/token", "/introspect", "/revoke"} {
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if path != "/token" {
					f.Del("grant_type")
					f.Set("token", "x")
				}
				resp, err := http.PostForm(w.issuer+path, f)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic realm=") {
					t.Fatalf("%s: %d WWW-Authenticate %q", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

// TestEveryAdvertisedAlgorithmVerifiesStrictly plays a strict relying party:
// it picks the JWKS key by kid and requires the key's alg to be the token's
// alg, then verifies with exactly that algorithm.
func TestEveryAdvertisedAlgorithmVerifiesStrictly(t *testing.T) {
	w := newWorld(t)
	resp, err := http.Get(w.issuer + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	strictVerify := func(t *testing.T, token string) {
		t.Helper()
		h, _ := claims(t, token)
		alg, _ := h["alg"].(string)
		kid, _ := h["kid"].(string)
		var found []jose.JSONWebKey
		for _, k := range set.Key(kid) {
			if k.Algorithm == alg && k.Use == "sig" {
				found = append(found, k)
			}
		}
		if len(found) != 1 {
			t.Fatalf("kid %s alg %s: %d matching JWKs in %d", kid, alg, len(found), len(set.Keys))
		}
		jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jws.Verify(found[0]); err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
	}
	var advertised struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	resp, err = http.Get(w.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&advertised)
	resp.Body.Close()
	if len(advertised.Algs) < 3 {
		t.Fatalf("advertised %v", advertised.Algs)
	}
	for _, alg := range advertised.Algs {
		t.Run(alg, func(t *testing.T) {
			c, secret := w.client(authserver.RegisterInput{Name: alg, Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
				IDTokenSignedAlg: alg})
			code := w.codeFor(c.ClientID, "openid", "")
			_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirectBase}}, c.ClientID, secret)
			idt, _ := tok["id_token"].(string)
			if h, _ := claims(t, idt); h["alg"] != alg {
				t.Fatalf("ID token alg %v, registered %s", h["alg"], alg)
			}
			strictVerify(t, idt)
			strictVerify(t, tok["access_token"].(string))
		})
	}
}

// TestAuthorizationServerMetadata: RFC 8414 §3 metadata is served at its
// own well-known path, and names the same issuer and endpoints.
func TestAuthorizationServerMetadata(t *testing.T) {
	w := newWorld(t)
	get := func(path string) map[string]any {
		resp, err := http.Get(w.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	as := get("/.well-known/oauth-authorization-server")
	oidc := get("/.well-known/openid-configuration")
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint",
		"introspection_endpoint", "revocation_endpoint"} {
		if as[k] == nil || as[k] != oidc[k] {
			t.Fatalf("%s: %v vs %v", k, as[k], oidc[k])
		}
	}
	if as["issuer"] != w.issuer {
		t.Fatalf("issuer %v", as["issuer"])
	}
}

// TestMetadataPathsForAnIssuerWithAPath: RFC 8414 §3.1 puts the well-known
// segment between the host and the issuer's path; the path-suffixed form
// is served too, for clients that build it like OIDC discovery.
func TestMetadataPathsForAnIssuerWithAPath(t *testing.T) {
	w := newWorld(t)
	srv, err := authserver.New(authserver.Config{Issuer: "https://id.example/tenant", Store: w.st, Sealer: w.sealer,
		LoginURL: func(string) string { return "/login" }})
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, p := range srv.Paths() {
		paths[p] = true
	}
	for _, p := range []string{"/.well-known/oauth-authorization-server/tenant", "/tenant/.well-known/oauth-authorization-server",
		"/tenant/.well-known/openid-configuration"} {
		if !paths[p] {
			t.Errorf("%s not served; paths %v", p, srv.Paths())
		}
	}
}

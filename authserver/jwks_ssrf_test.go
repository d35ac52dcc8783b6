package authserver_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/store"
)

// TestJWKSURIOnLoopbackIsRefused: by default a client's jwks_uri is never
// fetched from a loopback address (SSRF), not even a TCP connection is
// made; the same request succeeds when the test supplies its own client, so
// the refusal is the dialer's doing and not a broken assertion.
func TestJWKSURIOnLoopbackIsRefused(t *testing.T) {
	key, _ := rsaKey()
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	var conns atomic.Int64
	keys := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(doc)
	}))
	keys.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	keys.StartTLS()
	t.Cleanup(keys.Close)

	for _, tc := range []struct {
		name   string
		opt    func(*authserver.Config)
		status int
	}{
		{"default client", func(*authserver.Config) {}, http.StatusUnauthorized},
		{"client supplied by the test", func(c *authserver.Config) { c.HTTPClient = keys.Client() }, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns.Store(0)
			w := newWorld(t, tc.opt)
			c, _ := w.client(authserver.RegisterInput{Name: "jwt", Type: store.ClientService, Scopes: []string{"orders:read"},
				TokenEndpointAuthMethod: "private_key_jwt", JWKSURI: keys.URL + "/jwks"})
			form := url.Values{"grant_type": {"client_credentials"},
				"client_assertion":      {signAssertion(t, key, "k1", c.ClientID, w.issuer+"/token", w.clock())},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
			st, b := w.post("/token", form, "", "")
			if st != tc.status {
				t.Fatalf("token: %d %v, want %d", st, b, tc.status)
			}
			if st != http.StatusOK {
				wantError(t, st, b, http.StatusUnauthorized, "invalid_client")
				if n := conns.Load(); n != 0 {
					t.Errorf("%d connection(s) reached the loopback jwks_uri", n)
				}
			}
		})
	}
}

package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/store"
)

// TestClientJWKSURIFetchFailureIsRemembered: when a private_key_jwt
// client's jwks_uri cannot be fetched, the failure is remembered per URL
// with a doubling backoff (5 s, 10 s, … up to 5 min), so a burst of client
// assertions costs one fetch, not one each; once the backoff has passed and
// the URL answers again, the client authenticates.
func TestClientJWKSURIFetchFailureIsRemembered(t *testing.T) {
	key, err := rsaKey()
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	var mu sync.Mutex
	hits, broken := 0, true
	keys := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		if broken {
			http.Error(rw, "down", http.StatusBadGateway)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(doc)
	}))
	t.Cleanup(keys.Close)
	count := func() int { mu.Lock(); defer mu.Unlock(); return hits }

	// The throttle of failed client authentication would stop the requests
	// itself after a few failures; lift it so only the backoff is measured.
	w := newWorld(t, func(c *authserver.Config) {
		c.HTTPClient = keys.Client()
		c.Throttle = authserver.Throttle{ClientFailures: 1000, SourceFailures: 1000}
	})
	c, _ := w.client(authserver.RegisterInput{Name: "jwt", Type: store.ClientService, Scopes: []string{"orders:read"},
		TokenEndpointAuthMethod: "private_key_jwt", JWKSURI: keys.URL + "/jwks"})
	try := func() int {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"},
			"client_assertion":      {signAssertion(t, key, "k1", c.ClientID, w.issuer+"/token", w.clock())},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
		st, _ := w.post("/token", form, "", "")
		return st
	}

	for range 8 {
		if st := try(); st != http.StatusUnauthorized {
			t.Fatalf("jwks_uri down: %d, want 401", st)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("8 assertions while the jwks_uri is down fetched it %d times, want 1", n)
	}
	w.advance(6 * time.Second) // past the first backoff (5 s): one more try, which fails
	try()
	try()
	if n := count(); n != 2 {
		t.Fatalf("after the first backoff: %d fetches, want 2", n)
	}
	w.advance(6 * time.Second) // the second backoff is 10 s: not yet
	if st := try(); st != http.StatusUnauthorized {
		t.Fatalf("within the doubled backoff: %d, want 401", st)
	}
	if n := count(); n != 2 {
		t.Fatalf("within the doubled backoff: %d fetches, want 2", n)
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	w.advance(5 * time.Second) // 11 s after the second failure
	if st := try(); st != http.StatusOK {
		t.Fatalf("jwks_uri back and the backoff over: %d, want 200", st)
	}
	if st := try(); st != http.StatusOK {
		t.Fatalf("second assertion with the keys cached: %d, want 200", st)
	}
	if n := count(); n != 3 {
		t.Fatalf("after recovery: %d fetches, want 3 (the success is cached)", n)
	}
}

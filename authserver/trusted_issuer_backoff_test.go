package authserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/store"
)

// TestTrustedIssuerKeyFetchFailureIsRemembered: when a trusted issuer's
// keys cannot be fetched, the failure is remembered with a doubling
// backoff, so a burst of tokens naming that issuer costs one fetch, not
// one each (amplification against the partner and a drain on Portico);
// once the backoff has passed and the issuer answers again, its tokens
// are accepted.
func TestTrustedIssuerKeyFetchFailureIsRemembered(t *testing.T) {
	w := newWorld(t, loopbackAllowed)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	hits, broken := 0, true
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hits++
		if broken {
			http.Error(rw, "down", http.StatusBadGateway)
			return
		}
		json.NewEncoder(rw).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	}))
	t.Cleanup(ts.Close)
	count := func() int { mu.Lock(); defer mu.Unlock(); return hits }
	ti, err := w.srv.Issuers().Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: "https://idp.partner.example",
		JWKSURI: ts.URL + "/keys", MaxAge: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := w.client(authserver.RegisterInput{Name: "partner-sync", Type: store.ClientService,
		GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none", TrustedIssuerID: ti.ID, Scopes: []string{"orders:read"}})
	try := func() int {
		t.Helper()
		a := signJWT(t, jose.ES256, key, "k1", w.assertion(ti.Issuer, "alice", nil))
		st, _ := w.jwtBearer(bound.ClientID, "", a)
		return st
	}

	for range 20 {
		if st := try(); st != 400 {
			t.Fatalf("issuer down: %d", st)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("20 tokens while the issuer is down fetched its keys %d times, want 1", n)
	}
	w.advance(6 * time.Second) // past the first backoff (5 s): one more try, which fails
	try()
	try()
	if n := count(); n != 2 {
		t.Fatalf("after the first backoff: %d fetches, want 2", n)
	}
	w.advance(6 * time.Second) // the second backoff is 10 s: not yet
	try()
	if n := count(); n != 2 {
		t.Fatalf("within the doubled backoff: %d fetches, want 2", n)
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	w.advance(5 * time.Second)
	if st := try(); st != 200 {
		t.Fatalf("issuer back: %d", st)
	}
	if n := count(); n != 3 {
		t.Fatalf("issuer back: %d fetches, want 3", n)
	}
	for range 5 {
		try()
	}
	if n := count(); n != 3 {
		t.Fatalf("cached keys refetched: %d fetches", n)
	}
}

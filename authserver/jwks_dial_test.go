package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"portico/netguard"
)

// TestJWKSClientDialer: the default client refuses to dial 127.0.0.1 and
// says why; an operator's allow list, or the tests-only override, lets it
// through.
func TestJWKSClientDialer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	}))
	defer ts.Close()
	ctx := context.Background()
	r := &remoteJWKS{client: newJWKSClient(nil, true), now: time.Now, m: map[string]*remoteKeys{}}
	if _, err := r.get(ctx, ts.URL); !errors.Is(err, netguard.ErrRefused) || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Fatalf("loopback jwks_uri: %v, want a netguard refusal", err)
	}
	for name, allow := range map[string][]netip.Prefix{
		"PORTICO_UPSTREAM_ALLOW": {netip.MustParsePrefix("127.0.0.1/32")},
		"AllowPrivateJWKS":       allowEverything,
	} {
		r = &remoteJWKS{client: newJWKSClient(allow, true), now: time.Now, m: map[string]*remoteKeys{}}
		if set, err := r.get(ctx, ts.URL); err != nil || len(set.Keys) != 1 {
			t.Fatalf("with %s: %v %v", name, set, err)
		}
	}
}

// TestJWKSFetchGivenUpIsNotRemembered: a fetch that failed because the
// request was abandoned (a client that sends an assertion naming someone
// else's client_id and hangs up) is not remembered as a failure of the
// URL, or anyone could lock a client out for the length of the backoff.
func TestJWKSFetchGivenUpIsNotRemembered(t *testing.T) {
	hits := 0
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hits++
		rw.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	}))
	defer ts.Close()
	r := &remoteJWKS{client: newJWKSClient(allowEverything, true), now: time.Now, m: map[string]*remoteKeys{}}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.get(gone, ts.URL); err == nil {
		t.Fatal("a fetch with a cancelled context succeeded")
	}
	if set, err := r.get(context.Background(), ts.URL); err != nil || len(set.Keys) != 1 || hits != 1 {
		t.Fatalf("after an abandoned fetch: %v %v, %d hits; want the keys from one fetch", set, err, hits)
	}
}

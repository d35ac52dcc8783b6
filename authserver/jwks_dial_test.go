package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14":        true,
		"2606:2800:21f:cb07::": true,
		"127.0.0.1":            false,
		"127.9.9.9":            false,
		"::1":                  false,
		"::ffff:127.0.0.1":     false,
		"::ffff:10.0.0.1":      false,
		"10.1.2.3":             false,
		"172.16.0.1":           false,
		"192.168.1.1":          false,
		"169.254.169.254":      false, // cloud metadata
		"fe80::1":              false,
		"fd00::1":              false,
		"0.0.0.0":              false,
		"::":                   false,
		"0.1.2.3":              false,
		"100.64.0.1":           false,
		"224.0.0.1":            false,
		"255.255.255.255":      false,
		"64:ff9b::a00:1":       false, // NAT64 of 10.0.0.1
		"2002:a00:1::":         false, // 6to4 of 10.0.0.1
	} {
		if got := publicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestJWKSClientDialer: the default client refuses to dial 127.0.0.1 and
// says why; the tests-only override lets it through.
func TestJWKSClientDialer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Write([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	}))
	defer ts.Close()
	ctx := context.Background()
	r := &remoteJWKS{client: newJWKSClient(false, true), now: time.Now, m: map[string]remoteKeys{}}
	if _, err := r.get(ctx, ts.URL); !errors.Is(err, errNotPublic) {
		t.Fatalf("loopback jwks_uri: %v, want errNotPublic", err)
	}
	r = &remoteJWKS{client: newJWKSClient(true, true), now: time.Now, m: map[string]remoteKeys{}}
	if set, err := r.get(ctx, ts.URL); err != nil || len(set.Keys) != 1 {
		t.Fatalf("with AllowPrivateJWKS: %v %v", set, err)
	}
}

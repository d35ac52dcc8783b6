package handlers_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
)

// TestTokenThrottleUsesTheProxiedAddress: behind a trusted proxy the
// throttle of failed client authentication counts the client's address
// from X-Forwarded-For, not the proxy's, so one attacker behind the proxy
// does not block every client behind it.
func TestTokenThrottleUsesTheProxiedAddress(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var srv *authserver.Server
	h := handlerstest.New(t, func(c *handlers.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.SignIn = handlers.SignInConfig{Sealer: sealer}
		srv, err = authserver.New(authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: sealer,
			AllowInsecure: true, CacheRevalidate: -1, Now: c.Now,
			LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) },
			Throttle: authserver.Throttle{ClientFailures: 2, SourceFailures: 2, Backoff: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		c.OAuth = srv
	})
	org := h.Org(t, "acme", "acme.example")
	svc, secret, err := srv.Registrar().Register(context.Background(), org.ID, authserver.Actor{Label: "test"},
		authserver.RegisterInput{Name: "svc", Type: store.ClientService, GrantTypes: []string{"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	token := func(from, sec string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		req.SetBasicAuth(svc.ClientID, sec)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 2 {
		if st := token("198.51.100.7", "wrong"); st != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d", st)
		}
	}
	if st := token("198.51.100.7", secret); st != http.StatusTooManyRequests {
		t.Fatalf("the failing address: %d, want 429", st)
	}
	if st := token("203.0.113.20", secret); st != http.StatusOK {
		t.Fatalf("another client address behind the same proxy: %d, want 200", st)
	}
}

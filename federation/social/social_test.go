package social

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"portico/federation"
)

// TestAuth0RequestsGoThroughTheGuardedClient: goth's Auth0 session
// redeems the code with http.DefaultClient; the connector must do it with
// the connection's client instead. With the default (guarded) client an
// Auth0 domain on loopback is never contacted; with a client the portal
// gives (here one trusting the test server's certificate) the whole
// sign-in works, which proves both requests use that client.
func TestAuth0RequestsGoThroughTheGuardedClient(t *testing.T) {
	var conns atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 600})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"sub": "auth0|kim", "email": "kim@acme.example", "email_verified": true, "name": "Kim"})
	})
	idp := httptest.NewUnstartedServer(mux)
	idp.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	idp.StartTLS()
	t.Cleanup(idp.Close)

	cfg := &Config{provider: "auth0"}
	if errs := cfg.Set(map[string]string{"client_id": "portico", "base_url": idp.URL}); len(errs) > 0 {
		t.Fatal(errs)
	}
	signIn := func(env federation.Env) (federation.Identity, error) {
		conn, err := cfg.Open(context.Background(), env, []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		_, data, err := conn.(*Connector).LoginURL(context.Background(), "st")
		if err != nil {
			t.Fatal(err)
		}
		return conn.(*Connector).HandleCallback(context.Background(), data, httptest.NewRequest("GET", "/login/callback?code=c&state=st", nil))
	}

	env := federation.Env{CallbackURL: "https://portal.example/login/callback"}
	if _, err := signIn(env); err == nil || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Fatalf("loopback Auth0 domain with the default client: %v", err)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("%d connection(s) reached the loopback Auth0 domain", n)
	}

	env.HTTPClient = idp.Client()
	id, err := signIn(env)
	if err != nil || id.Subject != "auth0|kim" || id.Email != "kim@acme.example" {
		t.Fatalf("with the portal's client: %+v %v", id, err)
	}
}

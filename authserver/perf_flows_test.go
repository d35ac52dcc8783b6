package authserver_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"portico/authserver"
	"portico/store"
)

// countingStore counts the revoked-jti lookups that reach the database; it
// embeds the real store, so every optional ability (consents…) stays.
type countingStore struct {
	*store.Store
	lookups atomic.Int64
}

func (c *countingStore) JTIRevoked(ctx context.Context, jti string) (bool, error) {
	c.lookups.Add(1)
	return c.Store.JTIRevoked(ctx, jti)
}

// TestIntrospectionCachesRevokedJTIs: repeated introspection of a token
// asks the revoked-jti table once while nothing changes; a revocation made
// here is seen at once, and one made elsewhere (another replica, the CLI:
// straight into the database) as soon as the data version moves.
func TestIntrospectionCachesRevokedJTIs(t *testing.T) {
	var cs *countingStore
	w := newWorld(t, func(c *authserver.Config) {
		cs = &countingStore{Store: c.Store.(*store.Store)}
		c.Store = cs
	})
	web, secret := w.web("orders:read")
	token := func() string {
		code := w.codeFor(web.ClientID, "openid orders:read", "")
		st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectBase}}, web.ClientID, secret)
		if st != 200 {
			t.Fatalf("exchange: %d %v", st, tok)
		}
		return tok["access_token"].(string)
	}
	active := func(at string) bool {
		_, in := w.post("/introspect", url.Values{"token": {at}}, web.ClientID, secret)
		return in["active"] == true
	}
	a, b := token(), token()
	before := cs.lookups.Load()
	for range 5 {
		if !active(a) {
			t.Fatal("a fresh token introspects inactive")
		}
	}
	if n := cs.lookups.Load() - before; n != 1 {
		t.Fatalf("5 introspections of one token asked the database %d times, want 1", n)
	}
	// Revoked here: seen by the next request.
	if st, _ := w.post("/revoke", url.Values{"token": {a}}, web.ClientID, secret); st != 200 {
		t.Fatal("revoke failed")
	}
	if active(a) {
		t.Fatal("a token revoked in this process still introspects active")
	}
	// Revoked elsewhere: straight into the database, as another replica would.
	if !active(b) {
		t.Fatal("b inactive before revocation")
	}
	_, p := claims(t, b)
	if err := w.st.RevokeJTI(w.ctx, p["jti"].(string), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if active(b) {
		t.Fatal("a token revoked by another process still introspects active after the data version changed")
	}
}

// TestRefreshIssuesIDTokenOnlyWhenAsked: a refresh without a scope (what
// x/oauth2 sends) gets no ID token; one that names openid gets one that
// go-oidc accepts.
func TestRefreshIssuesIDTokenOnlyWhenAsked(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read")
	code := w.codeFor(web.ClientID, "openid email offline_access orders:read", "")
	st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, web.ClientID, secret)
	if st != 200 || tok["id_token"] == nil {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	rt := tok["refresh_token"].(string)
	st, tok = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, web.ClientID, secret)
	if st != 200 || tok["access_token"] == nil {
		t.Fatalf("refresh: %d %v", st, tok)
	}
	if tok["id_token"] != nil {
		t.Fatal("a refresh that did not ask for openid got an ID token")
	}
	st, tok = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
		"scope": {"openid orders:read"}}, web.ClientID, secret)
	if st != 200 {
		t.Fatalf("refresh with openid: %d %v", st, tok)
	}
	raw, _ := tok["id_token"].(string)
	provider, err := oidc.NewProvider(w.ctx, w.issuer)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: web.ClientID}).Verify(w.ctx, raw)
	if err != nil || idt.Subject != w.user.ID {
		t.Fatalf("ID token on refresh: %v %+v", err, idt)
	}
}

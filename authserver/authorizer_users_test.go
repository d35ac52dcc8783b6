package authserver_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

// userCountingStore counts user reads, to see the authorizer's cache work.
type userCountingStore struct {
	*store.Store
	reads atomic.Int64
}

func (s *userCountingStore) UserByID(ctx context.Context, id string) (store.User, error) {
	s.reads.Add(1)
	return s.Store.UserByID(ctx, id)
}

// TestAuthorizerCachesUsersButNotTheirStanding: the authorizer reads a
// user once while nothing changes, and a user disabled or removed is
// refused on the next call (the harness revalidates on every request), and
// within the 20 ms revalidation with the production interval, also when the
// change comes from another process (the CLI, another replica: a second
// store on the same database; on PostgreSQL it is learnt through the
// portico_changes notifications).
func TestAuthorizerCachesUsersButNotTheirStanding(t *testing.T) {
	for _, c := range []struct {
		name       string
		revalidate time.Duration
		wait       time.Duration
		other      bool
	}{{"every request", -1, 0, false}, {"production interval", 0, 30 * time.Millisecond, false},
		{"another process", 0, 30 * time.Millisecond, true}} {
		t.Run(c.name, func(t *testing.T) {
			var counting *userCountingStore
			w, a, _, _ := authorizerWorldWith(t, func(cfg *authserver.Config) {
				counting = &userCountingStore{Store: cfg.Store.(*store.Store)}
				cfg.Store, cfg.CacheRevalidate = counting, c.revalidate
			})
			web, secret := w.web("orders:read")
			code := w.codeFor(web.ClientID, "openid orders:read", "")
			st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirectBase}}, web.ClientID, secret)
			if st != 200 {
				t.Fatalf("token: %d %v", st, tok)
			}
			call := map[string]string{"Authorization": "Bearer " + tok["access_token"].(string), "X-Original-URI": "/open/x", "X-Original-Method": "GET"}
			status := func() int { return authzCall(a, "127.0.0.1", "/authz", call).Code }
			before := counting.reads.Load()
			for range 5 {
				if s := status(); s != 200 {
					t.Fatalf("user token: %d", s)
				}
			}
			if n := counting.reads.Load() - before; n > 1 {
				t.Errorf("5 calls read the user %d times, want at most 1", n)
			}
			writer := w.st
			if c.other {
				var err error
				if writer, err = store.Open(w.ctx, w.path); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { writer.Close() })
			}

			if _, _, err := writer.UpdateUser(w.ctx, w.org.ID, w.user.ID, func(u *store.User) error { u.Status = store.UserDisabled; return nil }); err != nil {
				t.Fatal(err)
			}
			time.Sleep(c.wait)
			if s := status(); s != 401 {
				t.Fatalf("disabled user: %d", s)
			}
			if _, _, err := writer.UpdateUser(w.ctx, w.org.ID, w.user.ID, func(u *store.User) error { u.Status = store.UserActive; return nil }); err != nil {
				t.Fatal(err)
			}
			time.Sleep(c.wait)
			if s := status(); s != 200 {
				t.Fatalf("re-enabled user: %d", s)
			}
			if err := writer.DeleteUser(w.ctx, w.org.ID, w.user.ID); err != nil {
				t.Fatal(err)
			}
			time.Sleep(c.wait)
			if s := status(); s != 401 {
				t.Fatalf("removed user: %d", s)
			}
		})
	}
}

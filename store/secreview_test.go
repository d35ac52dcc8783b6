package store_test

import (
	"context"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestRevokeAllUserRefreshFamilies: every live family of the user is
// revoked, whichever organization's app holds it; another user's stays.
func TestRevokeAllUserRefreshFamilies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		a, b := mustOrg(t, s, "a"), mustOrg(t, s, "b")
		now := time.Now().UTC().Truncate(time.Millisecond)
		mk := func(hash, org, user string) {
			f := store.RefreshFamily{ClientID: "c-" + hash, OrgID: org, UserID: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateRefreshFamily(ctx, &f, store.RefreshToken{Hash: hash, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		mk("own", a.ID, "u1")
		mk("shared", b.ID, "u1")
		mk("other", a.ID, "u2")
		if err := s.RevokeAllUserRefreshFamilies(ctx, "u1", "password reset", now); err != nil {
			t.Fatal(err)
		}
		for hash, want := range map[string]bool{"own": true, "shared": true, "other": false} {
			_, f, err := s.RefreshToken(ctx, hash)
			if err != nil {
				t.Fatal(err)
			}
			if got := !f.RevokedAt.IsZero(); got != want {
				t.Errorf("%s: revoked %v, want %v", hash, got, want)
			}
		}
	})
}

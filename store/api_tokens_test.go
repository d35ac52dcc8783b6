package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestAPITokensAreScopedAndRevokedOnce: a token is found by its hash; an
// organization's view never shows another's; revoking is scoped to the
// organization, happens once and is audited.
func TestAPITokensAreScopedAndRevokedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		acme, globex := mustOrg(t, s, "acme"), mustOrg(t, s, "globex")
		now := time.Now()
		mk := func(org, hash string) store.APIToken {
			t.Helper()
			tk := store.APIToken{Name: "t", OrgID: org, Role: store.APIRoleRead, TokenHash: hash, CreatedBy: "test",
				ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateAPIToken(ctx, &tk); err != nil {
				t.Fatal(err)
			}
			return tk
		}
		a, g, p := mk(acme.ID, "ha"), mk(globex.ID, "hg"), mk("", "hp")
		if got, err := s.APITokenByHash(ctx, "ha"); err != nil || got.ID != a.ID || got.OrgID != acme.ID || !got.Usable(now) {
			t.Fatalf("by hash: %+v %v", got, err)
		}
		if dup := (store.APIToken{Name: "d", Role: store.APIRoleRead, TokenHash: "ha", CreatedBy: "x", ExpiresAt: now}); !errors.Is(s.CreateAPIToken(ctx, &dup), store.ErrAlreadyExists) {
			t.Error("a second token with the same hash")
		}
		list, err := s.APITokens(ctx, acme.ID)
		if err != nil || len(list) != 1 || list[0].ID != a.ID {
			t.Fatalf("acme's list: %+v %v", list, err)
		}
		if all, _ := s.APITokens(ctx, ""); len(all) != 3 {
			t.Fatalf("platform list: %d", len(all))
		}
		for _, id := range []string{g.ID, p.ID} {
			if _, err := s.APIToken(ctx, acme.ID, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("acme's view found %s: %v", id, err)
			}
			if _, err := s.RevokeAPIToken(ctx, store.Actor{Label: "x"}, acme.ID, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("acme revoked %s: %v", id, err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.RevokeAPIToken(ctx, store.Actor{Label: "x"}, acme.ID, a.ID); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d revocations succeeded", wins)
		}
		if got, _ := s.APITokenByHash(ctx, "ha"); got.Usable(now) {
			t.Error("a revoked token is usable")
		}
		if err := s.TouchAPIToken(ctx, g.ID, now); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.APIToken(ctx, "", g.ID); got.LastUsedAt.IsZero() {
			t.Error("use not recorded")
		}
	})
}

// TestIdempotencyKeysAreClaimedOnce: one of several concurrent requests
// with the same key claims it; the others see it in progress, then its
// answer; an expired key is claimed afresh; purge removes expired keys.
func TestIdempotencyKeysAreClaimedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		now := time.Now()
		s.Now = func() time.Time { return now }
		req := store.IdempotentResponse{Method: "POST", Path: "/api/v1/orgs", BodyHash: "b1"}
		var wg sync.WaitGroup
		var mu sync.Mutex
		claims := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := s.ReserveIdempotencyKey(ctx, "tok", "k", req, now.Add(time.Hour))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					claims++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if claims != 1 {
			t.Fatalf("%d claims", claims)
		}
		ok, prev, err := s.ReserveIdempotencyKey(ctx, "tok", "k", req, now.Add(time.Hour))
		if err != nil || ok || prev.Status != 0 || prev.BodyHash != "b1" {
			t.Fatalf("in progress: %v %+v %v", ok, prev, err)
		}
		if err := s.CompleteIdempotencyKey(ctx, "tok", "k", 201, "/api/v1/orgs/x", []byte(`{"id":"x"}`)); err != nil {
			t.Fatal(err)
		}
		_, prev, _ = s.ReserveIdempotencyKey(ctx, "tok", "k", req, now.Add(time.Hour))
		if prev.Status != 201 || string(prev.Body) != `{"id":"x"}` || prev.Location != "/api/v1/orgs/x" {
			t.Fatalf("stored answer: %+v", prev)
		}
		// Another credential's key of the same name is its own.
		if ok, _, _ := s.ReserveIdempotencyKey(ctx, "other", "k", req, now.Add(time.Hour)); !ok {
			t.Error("keys are shared between credentials")
		}
		now = now.Add(2 * time.Hour)
		if n, err := s.DeleteExpiredIdempotencyKeys(ctx, now); err != nil || n != 2 {
			t.Errorf("purged %d: %v", n, err)
		}
		if ok, _, _ := s.ReserveIdempotencyKey(ctx, "tok", "k", req, now.Add(time.Hour)); !ok {
			t.Error("an expired key was not claimed afresh")
		}
		if err := s.ReleaseIdempotencyKey(ctx, "tok", "k"); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := s.ReserveIdempotencyKey(ctx, "tok", "k", req, now.Add(time.Hour)); !ok {
			t.Error("a released key was not claimed afresh")
		}
	})
}

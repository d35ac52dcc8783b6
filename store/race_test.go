package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// race runs fn from one goroutine per store at once, each store opened on
// the same database (as replicas would be), and returns their errors.
func race(stores []*store.Store, fn func(i int, s *store.Store) error) []error {
	n := len(stores)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i, stores[i])
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func oneWinner(t *testing.T, what string, errs []error) {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("%s: unexpected error %v", what, err)
		}
	}
	if won != 1 {
		t.Fatalf("%s: %d of %d concurrent uses succeeded, want exactly 1", what, won, len(errs))
	}
}

// TestConcurrentSingleUse races several stores (standing in for replicas) on
// one refresh token, one authorization code and one TOTP step: exactly one
// use wins each time, on both engines.
func TestConcurrentSingleUse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		dsn := e.DSN(t)
		s := storetest.OpenDSN(t, dsn)
		a := mustOrg(t, s, "a")
		u := store.User{OrgID: a.ID, Email: "u@a.test", Name: "U", Role: "member"}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		stores := make([]*store.Store, 6)
		for i := range stores {
			stores[i] = storetest.OpenDSN(t, dsn)
		}
		for round := range 3 {
			f := store.RefreshFamily{ClientID: "c", OrgID: a.ID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			old := fmt.Sprintf("old-%d", round)
			if err := s.CreateRefreshFamily(ctx, &f, store.RefreshToken{Hash: old, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			oneWinner(t, "refresh rotation", race(stores, func(i int, s *store.Store) error {
				return s.RotateRefreshToken(ctx, old, store.RefreshToken{Hash: fmt.Sprintf("new-%d-%d", round, i),
					FamilyID: f.ID, CreatedAt: now})
			}))

			ar := store.AuthRequest{ClientID: "c", OrgID: a.ID, RedirectURI: "http://x/cb", CreatedAt: now,
				ExpiresAt: now.Add(time.Minute)}
			if err := s.CreateAuthRequest(ctx, &ar); err != nil {
				t.Fatal(err)
			}
			if err := s.IssueCode(ctx, ar.ID, u.ID, now, nil, fmt.Sprintf("code-%d", round), now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			oneWinner(t, "code exchange", race(stores, func(i int, s *store.Store) error {
				return s.UseCode(ctx, ar.ID, now, fmt.Sprintf("jti-%d", i), now.Add(time.Minute), "")
			}))
		}

		if err := s.PutTOTP(ctx, u.ID, []byte("sealed")); err != nil {
			t.Fatal(err)
		}
		oneWinner(t, "TOTP step", race(stores, func(i int, s *store.Store) error {
			ok, err := s.AcceptTOTPStep(ctx, u.ID, 1000, false)
			if err == nil && !ok {
				err = store.ErrConflict
			}
			return err
		}))
	})
}

// TestConcurrentUpdatesAreNotLost has several stores count failed sign-ins
// on one user at once through UpdateUser's read-modify-write: every
// increment must land (on PostgreSQL the read locks the row).
func TestConcurrentUpdatesAreNotLost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		dsn := e.DSN(t)
		s := storetest.OpenDSN(t, dsn)
		a := mustOrg(t, s, "a")
		u := store.User{OrgID: a.ID, Email: "u@a.test", Name: "U", Role: "member"}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		stores := make([]*store.Store, 4)
		for i := range stores {
			stores[i] = storetest.OpenDSN(t, dsn)
		}
		const each = 5
		errs := race(stores, func(i int, s *store.Store) error {
			for range each {
				if _, _, err := s.UpdateUser(ctx, a.ID, u.ID, func(x *store.User) error {
					x.FailedLogins++
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.User(ctx, a.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(stores) * each; got.FailedLogins != want {
			t.Fatalf("failed logins = %d after %d concurrent increments: updates were lost", got.FailedLogins, want)
		}
	})
}

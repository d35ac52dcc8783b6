package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestAuthRequestStoredWithItsCode: single sign-on at /authorize stores a
// request once, already completed. It reads back like one completed by
// IssueCode, cannot be given a second code, and its code is single-use; a
// pending request is still stored without user or code. Both engines.
func TestAuthRequestStoredWithItsCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		a := mustOrg(t, s, "a")
		u := store.User{OrgID: a.ID, Email: "u@a.test", Name: "U", Role: "member"}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		done := store.AuthRequest{ClientID: "c", OrgID: a.ID, RedirectURI: "http://x/cb", Scopes: []string{"openid"},
			State: "st", DPoPJKT: "jkt", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
			UserID: u.ID, AuthTime: now.Add(-time.Hour), AMR: []string{"pwd", "otp"}, CodeHash: "hash-1", CodeExpiresAt: now.Add(time.Minute)}
		if err := s.CreateAuthRequest(ctx, &done); err != nil {
			t.Fatal(err)
		}
		got, err := s.AuthRequestByCode(ctx, "hash-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != done.ID || got.UserID != u.ID || !got.AuthTime.Equal(done.AuthTime) || !slices.Equal(got.AMR, done.AMR) ||
			!got.CodeExpiresAt.Equal(done.CodeExpiresAt) || got.DPoPJKT != "jkt" || got.State != "st" || !got.CodeUsedAt.IsZero() {
			t.Fatalf("read back: %+v", got)
		}
		if err := s.IssueCode(ctx, done.ID, u.ID, now, nil, "hash-2", now.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second code for a completed request: %v", err)
		}
		if err := s.UseCode(ctx, done.ID, now, "jti", now.Add(time.Minute), ""); err != nil {
			t.Fatal(err)
		}
		if err := s.UseCode(ctx, done.ID, now, "jti-2", now.Add(time.Minute), ""); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("the code was used twice: %v", err)
		}

		pending := store.AuthRequest{ClientID: "c", OrgID: a.ID, RedirectURI: "http://x/cb", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		if err := s.CreateAuthRequest(ctx, &pending); err != nil {
			t.Fatal(err)
		}
		if got, err := s.AuthRequest(ctx, pending.ID); err != nil || got.UserID != "" || got.CodeHash != "" || !got.AuthTime.IsZero() ||
			!got.CodeExpiresAt.IsZero() || len(got.AMR) != 0 {
			t.Fatalf("pending request: %+v %v", got, err)
		}
		if err := s.IssueCode(ctx, pending.ID, u.ID, now, []string{"pwd"}, "hash-3", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	})
}

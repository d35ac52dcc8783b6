package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"portico/store"
)

// Concurrent attempts on one key each get their own number, and only one of
// several concurrent lockers places the lock: what the throttles rely on to
// hold across replicas. Two Store handles on one file stand in for two.
func TestCountAttemptAndLockAreAtomic(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portico.db")
	a, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	old := now.Add(-time.Hour)

	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(s *store.Store) {
			defer wg.Done()
			th, err := s.CountAttempt(ctx, "k", now, old, old)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, th.Failures)
			mu.Unlock()
		}([]*store.Store{a, b}[i%2])
	}
	wg.Wait()
	slices.Sort(got)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("attempt numbers %v: not each its own", got)
		}
	}

	locks := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(s *store.Store) {
			defer wg.Done()
			ok, err := s.LockThrottle(ctx, "k", now, now.Add(15*time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				locks++
				mu.Unlock()
			}
		}([]*store.Store{a, b}[i%2])
	}
	wg.Wait()
	if locks != 1 {
		t.Fatalf("%d lockers placed the lock", locks)
	}
	// While locked nothing is counted; the lock and its count survive a
	// read from the other handle.
	th, err := a.CountAttempt(ctx, "k", now.Add(time.Minute), old, old)
	if err != nil || th.Failures != 0 || th.Lockouts != 1 || !th.Locked(now.Add(time.Minute)) {
		t.Fatalf("attempt while locked: %+v %v", th, err)
	}
	// After the lock, counting starts again; a stale count starts over.
	later := now.Add(20 * time.Minute)
	if th, _ := b.CountAttempt(ctx, "k", later, later.Add(-time.Hour), later.Add(-24*time.Hour)); th.Failures != 1 || th.Lockouts != 1 {
		t.Fatalf("after the lock: %+v", th)
	}
	much := later.Add(48 * time.Hour)
	if th, _ := b.CountAttempt(ctx, "k", much, much.Add(-time.Hour), much.Add(-24*time.Hour)); th.Failures != 1 || th.Lockouts != 0 {
		t.Fatalf("after two quiet days: %+v", th)
	}
	if err := a.ClearThrottlePrefix(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if th, err := b.ThrottleState(ctx, "k"); err != nil || th.Failures != 0 {
		t.Fatalf("cleared: %+v %v", th, err)
	}
}

func TestSessionReauth(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	o := store.Organization{Slug: "acme", Name: "Acme"}
	if err := s.CreateOrganization(ctx, &o); err != nil {
		t.Fatal(err)
	}
	u := store.User{OrgID: o.ID, Email: "a@acme.example", Name: "A", Role: store.RoleMember}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	x := store.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateSession(ctx, &x, "h"); err != nil {
		t.Fatal(err)
	}
	if at, err := s.SessionReauth(ctx, x.ID); err != nil || !at.IsZero() {
		t.Fatalf("%v %v", at, err)
	}
	for _, at := range []time.Time{now, now.Add(time.Minute)} {
		if err := s.SetSessionReauth(ctx, x.ID, at); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.SessionReauth(ctx, x.ID); !got.Equal(at) {
			t.Fatalf("got %v want %v", got, at)
		}
	}
	if err := s.DeleteSession(ctx, u.ID, x.ID); err != nil {
		t.Fatal(err)
	}
	if at, _ := s.SessionReauth(ctx, x.ID); !at.IsZero() {
		t.Fatal("the proof outlived its session")
	}
}

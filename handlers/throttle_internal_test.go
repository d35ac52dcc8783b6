package handlers

import (
	"strings"
	"testing"
	"time"

	"portico/federation/pool"
)

// The dummy hash must cost what a real one does: same algorithm and
// parameters as HashPassword makes today.
func TestDummyHashHasHashPasswordsParameters(t *testing.T) {
	real, err := pool.HashPassword("x")
	if err != nil {
		t.Fatal(err)
	}
	params := func(h string) string { return strings.Join(strings.Split(h, "$")[:4], "$") }
	if params(dummyHash) != params(real) {
		t.Fatalf("dummy %q, real %q: update dummyHash", params(dummyHash), params(real))
	}
	if err := pool.CheckPassword(dummyHash, "x"); err == nil {
		t.Fatal("the dummy hash matches a password")
	}
}

func TestLockScheduleDoublesUpToItsCap(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var got []time.Duration
	for n := 0; n < 7; n++ {
		got = append(got, pairLimit.lockUntil(n, now).Sub(now))
	}
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 4 * time.Hour, 4 * time.Hour}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("locks %v, want %v", got, want)
		}
	}
	if mfaLimit.lockUntil(20, now).Sub(now) != 24*time.Hour {
		t.Fatal("the second-factor lock is not capped at a day")
	}
}

package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"

	"portico/store"
)

// Throttles for sign-in and second factors (docs/security/signin-and-mfa.md).
// Every count lives in the database (store.CountAttempt), so the limits hold
// across replicas and restarts.
//
//   - A password attempt counts against the pair (email as typed, source
//     network) and, when it fails, against the source network. Only the
//     pair that failed is locked: the owner signs in from another network
//     whatever an attacker does elsewhere. The email is the one typed, so
//     an address without an account gets the same answers, the same delays
//     and the same lock as one with an account.
//   - Every place that checks a second factor (the sign-in code page, the
//     launch step-up, enrolment, turning MFA off, recovery codes) counts
//     against one counter per user.
type attemptLimit struct {
	Max     int           // the Max-th failure in a row locks
	Lock    time.Duration // the first lock; each further lock doubles it…
	MaxLock time.Duration // …up to this
	Window  time.Duration // failures followed by this long a silence are forgotten
}

var (
	pairLimit = attemptLimit{Max: 5, Lock: 15 * time.Minute, MaxLock: 4 * time.Hour, Window: time.Hour}
	netLimit  = attemptLimit{Max: 50, Lock: 15 * time.Minute, MaxLock: 4 * time.Hour, Window: time.Hour}
	mfaLimit  = attemptLimit{Max: 5, Lock: 15 * time.Minute, MaxLock: 24 * time.Hour, Window: 24 * time.Hour}
)

// forgetLocksAfter is how long a key must stay quiet before its lock count
// (and so the doubling) starts over.
const forgetLocksAfter = 24 * time.Hour

// slowStep is the delay schedule: the answer to the n-th failure in a row
// waits n×slowStep.
const slowStep = 400 * time.Millisecond

func failureDelay(n int) time.Duration { return time.Duration(n) * slowStep }

// lockUntil is when a lock placed at now ends, after lockouts earlier ones.
func (l attemptLimit) lockUntil(lockouts int, now time.Time) time.Time {
	d := l.Lock
	for i := 0; i < lockouts && d < l.MaxLock; i++ {
		d *= 2
	}
	return now.Add(min(d, l.MaxLock))
}

// accountKeyPrefix starts every pair key of an email; the email is hashed
// so the table holds no list of typed addresses.
func accountKeyPrefix(email string) string {
	sum := sha256.Sum256([]byte(email))
	return "pw:" + hex.EncodeToString(sum[:16]) + "|"
}

func pairKey(email string, network netip.Prefix) string {
	return accountKeyPrefix(email) + networkName(network)
}

func netKey(network netip.Prefix) string { return "net:" + networkName(network) }

func mfaKey(userID string) string { return "mfa:" + userID }

func networkName(p netip.Prefix) string {
	if !p.IsValid() {
		return "unknown"
	}
	return p.String()
}

// sleeper waits; tests record instead.
type sleeper func(ctx context.Context, d time.Duration)

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// reserve counts an attempt against key before the secret is looked at, so
// a burst of parallel guesses gets no more tries than a sequence. locked is
// true (with t.LockedUntil) when the key is locked, or this attempt went
// past the limit and locked it; then the secret must not be checked.
func reserve(ctx context.Context, st *store.Store, key string, lim attemptLimit, now time.Time) (t store.Throttle, locked bool, err error) {
	t, err = st.CountAttempt(ctx, key, now, now.Add(-lim.Window), now.Add(-forgetLocksAfter))
	if err != nil || t.Locked(now) {
		return t, err == nil, err
	}
	if t.Failures > lim.Max {
		t.LockedUntil, err = lockKey(ctx, st, key, lim, t.Lockouts, now)
		return t, true, err
	}
	return t, false, nil
}

// failedAttempt settles a reserved attempt that failed: at the limit the key
// is locked and the lock's end returned; otherwise zero.
func failedAttempt(ctx context.Context, st *store.Store, key string, lim attemptLimit, t store.Throttle, now time.Time) (time.Time, error) {
	if t.Failures < lim.Max {
		return time.Time{}, nil
	}
	return lockKey(ctx, st, key, lim, t.Lockouts, now)
}

// lockKey locks key, or returns the lock another request placed first.
func lockKey(ctx context.Context, st *store.Store, key string, lim attemptLimit, lockouts int, now time.Time) (time.Time, error) {
	until := lim.lockUntil(lockouts, now)
	ok, err := st.LockThrottle(ctx, key, now, until)
	if err != nil || ok {
		return until, err
	}
	cur, err := st.ThrottleState(ctx, key)
	if err != nil {
		return until, err
	}
	if cur.Locked(now) {
		return cur.LockedUntil, nil
	}
	return until, nil
}

// lockedUntil returns the end of key's lock at now, or zero.
func lockedUntil(ctx context.Context, st *store.Store, key string, now time.Time) (time.Time, error) {
	t, err := st.ThrottleState(ctx, key)
	if err != nil || !t.Locked(now) {
		return time.Time{}, err
	}
	return t.LockedUntil, nil
}

// countFailure counts a failure against key (for keys counted only on
// failure: the source network) and locks at the limit.
func countFailure(ctx context.Context, st *store.Store, key string, lim attemptLimit, now time.Time) error {
	t, err := st.CountAttempt(ctx, key, now, now.Add(-lim.Window), now.Add(-forgetLocksAfter))
	if err != nil || t.Locked(now) || t.Failures < lim.Max {
		return err
	}
	_, err = lockKey(ctx, st, key, lim, t.Lockouts, now)
	return err
}

func msgSignInLocked(until time.Time) string {
	return fmt.Sprintf("Too many failed sign-in attempts. Try again after %s UTC.", until.UTC().Format("15:04"))
}

func msgFactorLocked(until time.Time) string {
	return fmt.Sprintf("Too many wrong codes. Two-step verification for this account is locked until %s UTC.",
		until.UTC().Format("15:04"))
}

// passwordResult is the outcome of one password attempt.
type passwordResult struct {
	OK          bool
	LockedUntil time.Time     // set when refused by a lock; the password was not checked, or this failure locked
	Failures    int           // failures in a row for the pair, this one included
	NextLock    time.Duration // how long the pair's next lock will last
}

// passwordAttempt runs check as one password attempt for email (as typed)
// from network: refused while the network or the pair is locked; counted
// against the pair before the check; on failure counted against the network
// too, answered after the delay schedule and locked at the limit; on
// success the pair is cleared (the network is not: one good password must
// not wash away an attack on other accounts).
func passwordAttempt(ctx context.Context, st *store.Store, sleep sleeper, email string, network netip.Prefix, now time.Time, check func() (bool, error)) (passwordResult, error) {
	pk, nk := pairKey(email, network), netKey(network)
	if until, err := lockedUntil(ctx, st, nk, now); err != nil || !until.IsZero() {
		return passwordResult{LockedUntil: until}, err
	}
	t, locked, err := reserve(ctx, st, pk, pairLimit, now)
	if err != nil || locked {
		return passwordResult{LockedUntil: t.LockedUntil}, err
	}
	ok, err := check()
	if err != nil {
		return passwordResult{}, err
	}
	if ok {
		return passwordResult{OK: true}, st.ClearThrottle(ctx, pk)
	}
	if err := countFailure(ctx, st, nk, netLimit, now); err != nil {
		return passwordResult{}, err
	}
	until, err := failedAttempt(ctx, st, pk, pairLimit, t, now)
	if err != nil {
		return passwordResult{}, err
	}
	if until.IsZero() {
		sleep(ctx, failureDelay(t.Failures))
	}
	return passwordResult{LockedUntil: until, Failures: t.Failures, NextLock: pairLimit.lockUntil(t.Lockouts, now).Sub(now)}, nil
}

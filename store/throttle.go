package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Throttle is the state of one throttle key: failed attempts counted since
// the last success or lock, how many times the key was locked, and until
// when it is locked now. The caller names keys and decides the limits.
type Throttle struct {
	Key         string
	Failures    int
	Lockouts    int
	LockedUntil time.Time // zero when the key was never locked
	UpdatedAt   time.Time
}

// Locked reports whether the key is locked at now.
func (t Throttle) Locked(now time.Time) bool { return now.Before(t.LockedUntil) }

// ThrottleState returns key's state; a key never counted is the zero
// Throttle, not an error.
func (s *Store) ThrottleState(ctx context.Context, key string) (Throttle, error) {
	t := Throttle{Key: key}
	var locked, updated int64
	err := s.q.QueryRowContext(ctx, `SELECT failures, lockouts, locked_until, updated_at FROM auth_throttle WHERE key = ?`,
		key).Scan(&t.Failures, &t.Lockouts, &locked, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return t, nil
	}
	if err != nil {
		return t, fmt.Errorf("store: throttle: %w", err)
	}
	t.LockedUntil, t.UpdatedAt = lockTime(locked), fromMS(updated)
	return t, nil
}

func lockTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMS(v)
}

// CountAttempt adds one attempt to key in one statement and returns the
// state after it, so concurrent attempts on any replica each see their own
// number. While the key is locked nothing is added. A count last touched
// before staleBefore starts again from one, and lockouts last touched
// before forgetLocksBefore start again from zero.
func (s *Store) CountAttempt(ctx context.Context, key string, now, staleBefore, forgetLocksBefore time.Time) (Throttle, error) {
	t := Throttle{Key: key}
	var locked, updated int64
	n := ms(now)
	err := s.q.QueryRowContext(ctx, `INSERT INTO auth_throttle (key, failures, lockouts, locked_until, updated_at)
		VALUES (?, 1, 0, 0, ?)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN auth_throttle.locked_until > ? THEN auth_throttle.failures
				WHEN auth_throttle.updated_at < ? THEN 1 ELSE auth_throttle.failures + 1 END,
			lockouts = CASE WHEN auth_throttle.updated_at < ? AND auth_throttle.locked_until <= ? THEN 0
				ELSE auth_throttle.lockouts END,
			updated_at = CASE WHEN auth_throttle.locked_until > ? THEN auth_throttle.updated_at ELSE excluded.updated_at END
		RETURNING failures, lockouts, locked_until, updated_at`,
		key, n, n, ms(staleBefore), ms(forgetLocksBefore), n, n).Scan(&t.Failures, &t.Lockouts, &locked, &updated)
	if err != nil {
		return t, fmt.Errorf("store: count attempt: %w", err)
	}
	t.LockedUntil, t.UpdatedAt = lockTime(locked), fromMS(updated)
	return t, nil
}

// LockThrottle locks key until until and starts its count over, unless it
// is already locked at now (another replica got there first). It reports
// whether this call locked it.
func (s *Store) LockThrottle(ctx context.Context, key string, now, until time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE auth_throttle SET failures = 0, lockouts = lockouts + 1, locked_until = ?,
		updated_at = ? WHERE key = ? AND locked_until <= ?`, ms(until), ms(now), key, ms(now))
	if err != nil {
		return false, fmt.Errorf("store: lock throttle: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ClearThrottle forgets key, after a success.
func (s *Store) ClearThrottle(ctx context.Context, key string) error {
	if _, err := s.q.ExecContext(ctx, `DELETE FROM auth_throttle WHERE key = ?`, key); err != nil {
		return fmt.Errorf("store: clear throttle: %w", err)
	}
	return nil
}

// ClearThrottlePrefix forgets every key starting with prefix (an account's
// pairs with all networks, when an administrator resets its password).
func (s *Store) ClearThrottlePrefix(ctx context.Context, prefix string) error {
	like := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(prefix) + "%"
	if _, err := s.q.ExecContext(ctx, `DELETE FROM auth_throttle WHERE key LIKE ? ESCAPE '!'`, like); err != nil {
		return fmt.Errorf("store: clear throttles: %w", err)
	}
	return nil
}

// DeleteStaleThrottles removes keys not locked at now and not touched since
// before; nothing depends on it but the table's size.
func (s *Store) DeleteStaleThrottles(ctx context.Context, now, before time.Time) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM auth_throttle WHERE updated_at < ? AND locked_until <= ?`,
		ms(before), ms(now))
	return err
}

// SetSessionReauth records that the session's user proved their first
// factor (signed in, or typed their password again) at at.
func (s *Store) SetSessionReauth(ctx context.Context, sessionID string, at time.Time) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO session_reauth (session_id, at) VALUES (?, ?)
		ON CONFLICT (session_id) DO UPDATE SET at = excluded.at`, sessionID, ms(at))
	if err != nil {
		return fmt.Errorf("store: session reauth: %w", err)
	}
	return nil
}

// SessionReauth returns when the session's user last proved their first
// factor, zero when never recorded.
func (s *Store) SessionReauth(ctx context.Context, sessionID string) (time.Time, error) {
	var at int64
	err := s.q.QueryRowContext(ctx, `SELECT at FROM session_reauth WHERE session_id = ?`, sessionID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: session reauth: %w", err)
	}
	return fromMS(at), nil
}

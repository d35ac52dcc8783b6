package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RecordClientAuthFailure counts one failed client authentication under key
// (the authorization server's "client:…" or "addr:…") and returns the count
// in the current window. A window older than window, with no block still
// running, starts again at 1. One statement, so concurrent replicas count
// every failure.
func (s *Store) RecordClientAuthFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `INSERT INTO oauth_client_auth_failures (key, failures, window_start, blocked_until, expires_at)
		VALUES (?, 1, ?, 0, ?)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN oauth_client_auth_failures.window_start <= ? AND oauth_client_auth_failures.blocked_until <= ?
				THEN 1 ELSE oauth_client_auth_failures.failures + 1 END,
			window_start = CASE WHEN oauth_client_auth_failures.window_start <= ? AND oauth_client_auth_failures.blocked_until <= ?
				THEN excluded.window_start ELSE oauth_client_auth_failures.window_start END,
			expires_at = CASE WHEN oauth_client_auth_failures.expires_at > excluded.expires_at
				THEN oauth_client_auth_failures.expires_at ELSE excluded.expires_at END
		RETURNING failures`,
		key, ms(now), ms(now.Add(window)), ms(now.Add(-window)), ms(now), ms(now.Add(-window)), ms(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: record client auth failure: %w", err)
	}
	return n, nil
}

// BlockClientAuth blocks key until until (never shortening a longer block).
func (s *Store) BlockClientAuth(ctx context.Context, key string, until time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE oauth_client_auth_failures SET
			blocked_until = CASE WHEN blocked_until > ? THEN blocked_until ELSE ? END,
			expires_at = CASE WHEN expires_at > ? THEN expires_at ELSE ? END
		WHERE key = ?`, ms(until), ms(until), ms(until), ms(until), key)
	if err != nil {
		return fmt.Errorf("store: block client auth: %w", err)
	}
	return nil
}

// ClientAuthBlocks returns the keys blocked at now and until when: a short
// list, which the authorization server keeps in memory between database
// changes.
func (s *Store) ClientAuthBlocks(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT key, blocked_until FROM oauth_client_auth_failures WHERE blocked_until > ?`, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: client auth blocks: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var k string
		var until int64
		if err := rows.Scan(&k, &until); err != nil {
			return nil, fmt.Errorf("store: client auth blocks: %w", err)
		}
		out[k] = fromMS(until)
	}
	return out, rows.Err()
}

// ClientAuthFailures returns how many failures key has in a window that
// started after since (0 if none).
func (s *Store) ClientAuthFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT failures FROM oauth_client_auth_failures WHERE key = ? AND window_start > ?`,
		key, ms(since)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: client auth failures: %w", err)
	}
	return n, nil
}

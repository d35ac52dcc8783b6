package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CreatePushedRequest stores a pushed authorization request (RFC 9126)
// under the keyed hash of its request_uri's random part.
func (s *Store) CreatePushedRequest(ctx context.Context, handleHash, clientID, params string, created, expires time.Time) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_par_requests (handle_hash, client_id, params, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, handleHash, clientID, params, ms(created), ms(expires))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: pushed request: %w", ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: pushed request: %w", err)
	}
	return nil
}

// UsePushedRequest consumes a pushed authorization request of clientID that
// has not expired at now and returns its parameters. The DELETE decides: of
// two concurrent uses, on any replica, one gets the row and the other
// ErrNotFound, as do an unknown, used, expired or another client's handle.
func (s *Store) UsePushedRequest(ctx context.Context, handleHash, clientID string, now time.Time) (string, error) {
	var params string
	err := s.q.QueryRowContext(ctx, `DELETE FROM oauth_par_requests WHERE handle_hash = ? AND client_id = ?
		AND expires_at > ? RETURNING params`, handleHash, clientID, ms(now)).Scan(&params)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: use pushed request: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: use pushed request: %w", err)
	}
	return params, nil
}

// UseDPoPJTI records a DPoP proof's key until expires; a key seen before is
// ErrAlreadyExists (a replayed proof). The affected-row count decides, so
// it holds across replicas.
func (s *Store) UseDPoPJTI(ctx context.Context, key string, expires time.Time) error {
	res, err := s.q.ExecContext(ctx, `INSERT INTO oauth_dpop_jtis (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO NOTHING`, key, ms(expires))
	if err != nil {
		return fmt.Errorf("store: dpop jti: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: dpop jti: %w", ErrAlreadyExists)
	}
	return nil
}

// DPoPJTI is one DPoP proof to record (see UseDPoPJTI).
type DPoPJTI struct {
	Key     string
	Expires time.Time
}

// maxJTIBatch bounds the rows of one UseDPoPJTIs statement; each size is
// a distinct (prepared, cached) statement.
const maxJTIBatch = 32

// UseDPoPJTIs records several proofs and reports, for each, whether this
// was its first use (a later duplicate in the same batch is not). It is one
// multi-row INSERT … ON CONFLICT DO NOTHING RETURNING per 32 proofs, in
// autocommit: the rows returned are the proofs seen for the first time, on
// any replica, since the key is the table's primary key. One statement for
// many requests is what keeps DPoP cheap under load: SQLite has one
// writer at a time, and a transaction around it would cost a BEGIN and a
// COMMIT more.
func (s *Store) UseDPoPJTIs(ctx context.Context, jtis []DPoPJTI) ([]bool, error) {
	fresh := make([]bool, len(jtis))
	first := make(map[string]int, len(jtis)) // key -> index of its first occurrence
	var q strings.Builder
	args := make([]any, 0, 2*maxJTIBatch)
	var idx []int
	flush := func() error {
		if len(idx) == 0 {
			return nil
		}
		q.Reset()
		q.WriteString("INSERT INTO oauth_dpop_jtis (key, expires_at) VALUES ")
		for n := range idx {
			if n > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
		}
		q.WriteString(" ON CONFLICT (key) DO NOTHING RETURNING key")
		rows, err := s.q.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return fmt.Errorf("store: dpop jtis: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return fmt.Errorf("store: dpop jtis: %w", err)
			}
			if i, ok := first[k]; ok {
				fresh[i] = true
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: dpop jtis: %w", err)
		}
		args, idx = args[:0], idx[:0]
		return nil
	}
	for i, j := range jtis {
		if _, dup := first[j.Key]; dup {
			continue // a replay inside the batch: not fresh
		}
		first[j.Key] = i
		args = append(args, j.Key, ms(j.Expires))
		idx = append(idx, i)
		if len(idx) == maxJTIBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return fresh, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SessionAuth is how a session was authenticated: each method (RFC 8176
// names: "pwd", "otp", "hwk", "swk", "user", "fed"...) with when it was
// last used in the session, and what an upstream identity provider said
// about its own sign-in.
type SessionAuth struct {
	Methods     map[string]time.Time
	UpstreamAMR []string
	UpstreamACR string
}

// SessionAuth returns what is recorded for sessionID; a session with
// nothing recorded has an empty SessionAuth and no error.
func (s *Store) SessionAuth(ctx context.Context, sessionID string) (SessionAuth, error) {
	var methods, amr string
	var a SessionAuth
	err := s.q.QueryRowContext(ctx, `SELECT methods, upstream_amr, upstream_acr FROM session_auth WHERE session_id = ?`,
		sessionID).Scan(&methods, &amr, &a.UpstreamACR)
	if errors.Is(err, sql.ErrNoRows) {
		return SessionAuth{Methods: map[string]time.Time{}}, nil
	}
	if err != nil {
		return a, fmt.Errorf("store: session auth: %w", err)
	}
	var raw map[string]int64
	if err := json.Unmarshal([]byte(methods), &raw); err != nil {
		return a, fmt.Errorf("store: session auth: %w", err)
	}
	a.Methods = make(map[string]time.Time, len(raw))
	for k, v := range raw {
		a.Methods[k] = fromMS(v)
	}
	a.UpstreamAMR = strings.Fields(amr)
	return a, nil
}

// RecordSessionAuth adds methods, used at at, to the session's record
// (a later use of a method replaces its time), and sets the upstream's
// amr/acr when upstream is not nil.
func (s *Store) RecordSessionAuth(ctx context.Context, sessionID string, at time.Time, methods []string, upstream *SessionAuth) error {
	cur, err := s.SessionAuth(ctx, sessionID)
	if err != nil {
		return err
	}
	raw := map[string]int64{}
	for k, v := range cur.Methods {
		raw[k] = ms(v)
	}
	for _, m := range methods {
		raw[m] = ms(at)
	}
	b, _ := json.Marshal(raw)
	if upstream != nil {
		cur.UpstreamAMR, cur.UpstreamACR = upstream.UpstreamAMR, upstream.UpstreamACR
	}
	_, err = s.q.ExecContext(ctx, `INSERT INTO session_auth (session_id, methods, upstream_amr, upstream_acr)
		VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET methods = excluded.methods,
		upstream_amr = excluded.upstream_amr, upstream_acr = excluded.upstream_acr`,
		sessionID, string(b), strings.Join(cur.UpstreamAMR, " "), cur.UpstreamACR)
	if err != nil {
		return fmt.Errorf("store: record session auth: %w", err)
	}
	return nil
}

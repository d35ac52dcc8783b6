package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Session is a signed-in browser. The cookie holds a random token; only its
// hash is stored, so a copy of the database opens no sessions.
type Session struct {
	ID           string
	UserID       string
	CreatedAt    time.Time
	LastSeenAt   time.Time
	ExpiresAt    time.Time
	MFAAt        time.Time // zero when no second factor was used in this session
	ConnectionID string
	IP           string
	UserAgent    string
	// Privilege is what the user could do when the token was issued (see
	// handlers' privilegeOf); a change means the token must be replaced.
	Privilege string
}

const sessionColumns = `id, user_id, created_at, last_seen_at, expires_at, mfa_at, COALESCE(connection_id, ''), ip, user_agent, privilege`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var x Session
	var created, seen, expires int64
	var mfa sql.NullInt64
	if err := row.Scan(&x.ID, &x.UserID, &created, &seen, &expires, &mfa, &x.ConnectionID, &x.IP, &x.UserAgent, &x.Privilege); err != nil {
		return x, err
	}
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt, x.MFAAt = fromMS(created), fromMS(seen), fromMS(expires), fromNullMS(mfa)
	return x, nil
}

// CreateSession stores a new session under the hash of its cookie token.
func (s *Store) CreateSession(ctx context.Context, x *Session, tokenHash string) error {
	if x.ID == "" {
		x.ID = NewID()
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at,
		expires_at, mfa_at, connection_id, ip, user_agent, privilege) VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?, ?)`,
		x.ID, tokenHash, x.UserID, ms(x.CreatedAt), ms(x.LastSeenAt), ms(x.ExpiresAt), nullMS(x.MFAAt),
		x.ConnectionID, x.IP, x.UserAgent, x.Privilege)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByTokenHash returns the session whose cookie token hashes to h.
// Expired sessions are ErrNotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, h string, now time.Time) (Session, error) {
	x, err := scanSession(s.q.QueryRowContext(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ? AND expires_at > ?`, h, ms(now)))
	return x, notFoundOrNil("store: session", err)
}

// UserSessions lists a user's live sessions, most recent first.
func (s *Store) UserSessions(ctx context.Context, userID string, now time.Time) ([]Session, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC`, userID, ms(now))
	if err != nil {
		return nil, fmt.Errorf("store: user sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// TouchSession records activity and slides the expiry.
func (s *Store) TouchSession(ctx context.Context, id string, seen, expires time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?`,
		ms(seen), ms(expires), id)
	return err
}

// RotateSession gives session id of userID a new id and token hash (and
// records the privilege the new token is issued for). Only one of two
// racing rotations wins: the loser gets ErrConflict, and so does a session
// that has ended.
func (s *Store) RotateSession(ctx context.Context, userID, id, newID, newTokenHash, privilege string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE sessions SET id = ?, token_hash = ?, privilege = ? WHERE id = ? AND user_id = ?`,
		newID, newTokenHash, privilege, id, userID)
	if err != nil {
		return fmt.Errorf("store: rotate session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: rotate session: %w", ErrConflict)
	}
	return nil
}

// SetSessionMFA records that the session passed a second factor at t.
func (s *Store) SetSessionMFA(ctx context.Context, id string, t time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE sessions SET mfa_at = ? WHERE id = ?`, ms(t), id)
	return err
}

// DeleteSession ends one session of userID.
func (s *Store) DeleteSession(ctx context.Context, userID, id string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id = ?`, userID, id)
	return err
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return err
}

// DeleteExpiredSessions removes sessions that expired before now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ms(now))
	return err
}

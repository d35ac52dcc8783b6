package store

import (
	"context"
	"fmt"
	"time"
)

// Identity links an upstream subject of one connection to a Portico user.
type Identity struct {
	ConnectionID string
	Subject      string
	UserID       string
	OrgID        string
	CreatedAt    time.Time
	LastLoginAt  time.Time
}

// IdentityBySubject returns the link for an upstream subject of a
// connection of orgID.
func (s *Store) IdentityBySubject(ctx context.Context, orgID, connectionID, subject string) (Identity, error) {
	var x Identity
	var created, last int64
	err := s.q.QueryRowContext(ctx, `SELECT connection_id, subject, user_id, org_id, created_at, last_login_at
		FROM identities WHERE org_id = ? AND connection_id = ? AND subject = ?`, orgID, connectionID, subject).
		Scan(&x.ConnectionID, &x.Subject, &x.UserID, &x.OrgID, &created, &last)
	x.CreatedAt, x.LastLoginAt = fromMS(created), fromMS(last)
	return x, notFoundOrNil("store: identity", err)
}

// LinkIdentity records that x.Subject of x.ConnectionID is x.UserID, or
// refreshes the last sign-in of an existing link.
func (s *Store) LinkIdentity(ctx context.Context, x *Identity) error {
	now := s.Now()
	if x.CreatedAt.IsZero() {
		x.CreatedAt = now
	}
	x.LastLoginAt = now
	_, err := s.q.ExecContext(ctx, `INSERT INTO identities (connection_id, subject, user_id, org_id, created_at, last_login_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (connection_id, subject) DO UPDATE SET last_login_at = excluded.last_login_at
		WHERE identities.user_id = excluded.user_id AND identities.org_id = excluded.org_id`,
		x.ConnectionID, x.Subject, x.UserID, x.OrgID, ms(x.CreatedAt), ms(x.LastLoginAt))
	if err != nil {
		return fmt.Errorf("store: link identity: %w", err)
	}
	return nil
}

// PendingLogin is a sign-in in progress; see the pending_logins table.
type PendingLogin struct {
	ID           string
	StateHash    string
	BrowserHash  string
	OrgID        string
	ConnectionID string
	ConnData     []byte // sealed by the caller
	Identity     []byte // sealed by the caller; set when a SAML response arrived by POST
	UserID       string // set once the first factor passed and a second is due
	AuthRequest  string
	Next         string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

const pendingColumns = `id, state_hash, browser_hash, org_id, connection_id, conn_data, identity, user_id,
	auth_request, next, created_at, expires_at`

// CreatePendingLogin stores a sign-in in progress.
func (s *Store) CreatePendingLogin(ctx context.Context, p *PendingLogin) error {
	if p.ID == "" {
		p.ID = NewID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.Now()
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO pending_logins (`+pendingColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.StateHash, p.BrowserHash, p.OrgID, p.ConnectionID, p.ConnData, p.Identity, p.UserID,
		p.AuthRequest, p.Next, ms(p.CreatedAt), ms(p.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create pending login: %w", err)
	}
	return nil
}

// PendingLoginByState returns the live pending login whose state hashes to
// stateHash; an expired one is ErrNotFound.
func (s *Store) PendingLoginByState(ctx context.Context, stateHash string, now time.Time) (PendingLogin, error) {
	var p PendingLogin
	var created, expires int64
	err := s.q.QueryRowContext(ctx, `SELECT `+pendingColumns+` FROM pending_logins
		WHERE state_hash = ? AND expires_at > ?`, stateHash, ms(now)).
		Scan(&p.ID, &p.StateHash, &p.BrowserHash, &p.OrgID, &p.ConnectionID, &p.ConnData, &p.Identity, &p.UserID,
			&p.AuthRequest, &p.Next, &created, &expires)
	p.CreatedAt, p.ExpiresAt = fromMS(created), fromMS(expires)
	return p, notFoundOrNil("store: pending login", err)
}

// SetPendingIdentity stores the (sealed) identity a SAML POST delivered.
func (s *Store) SetPendingIdentity(ctx context.Context, id string, identity []byte) error {
	_, err := s.q.ExecContext(ctx, `UPDATE pending_logins SET identity = ? WHERE id = ?`, identity, id)
	return err
}

// TakePendingLogin deletes a pending login and reports whether this call
// was the one that deleted it, so each can be used exactly once even when
// two requests race.
func (s *Store) TakePendingLogin(ctx context.Context, id string) (bool, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM pending_logins WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("store: take pending login: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteExpiredPendingLogins removes sign-ins abandoned before now.
func (s *Store) DeleteExpiredPendingLogins(ctx context.Context, now time.Time) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM pending_logins WHERE expires_at <= ?`, ms(now))
	return err
}

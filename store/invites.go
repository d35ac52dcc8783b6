package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Invitation asks someone to join an organization with a role. The link's
// token is shown once; only its hash is kept, so the struct goes into the
// audit log as it is.
type Invitation struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"org_id"`
	Email      string    `json:"email"`
	Role       Role      `json:"role"`
	TokenHash  string    `json:"-"`
	InvitedBy  string    `json:"invited_by"` // user ID of the inviter; empty for the CLI
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	AcceptedBy string    `json:"accepted_by,omitempty"` // user ID created on acceptance
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	// LinkMailed: the link went only to the invited address by email, so
	// whoever accepts it has shown they read that mailbox.
	LinkMailed bool `json:"link_mailed"`
}

// State names where an invitation stands at now: pending, accepted, revoked
// or expired.
func (i Invitation) State(now time.Time) string {
	switch {
	case !i.AcceptedAt.IsZero():
		return "accepted"
	case !i.RevokedAt.IsZero():
		return "revoked"
	case !now.Before(i.ExpiresAt):
		return "expired"
	}
	return "pending"
}

const inviteColumns = `id, org_id, email, role, token_hash, invited_by, created_at, expires_at,
	accepted_at, accepted_by, revoked_at, link_mailed`

func scanInvite(row interface{ Scan(...any) error }) (Invitation, error) {
	var i Invitation
	var role string
	var created, expires int64
	var accepted, revoked sql.NullInt64
	err := row.Scan(&i.ID, &i.OrgID, &i.Email, &role, &i.TokenHash, &i.InvitedBy, &created, &expires,
		&accepted, &i.AcceptedBy, &revoked, &i.LinkMailed)
	i.Role = Role(role)
	i.CreatedAt, i.ExpiresAt = fromMS(created), fromMS(expires)
	i.AcceptedAt, i.RevokedAt = fromNullMS(accepted), fromNullMS(revoked)
	return i, err
}

// CreateInvitation stores i under the hash of its token, assigning its ID
// and creation time.
func (s *Store) CreateInvitation(ctx context.Context, i *Invitation) error {
	if i.ID == "" {
		i.ID = NewID()
	}
	i.CreatedAt = s.Now()
	i.Email = strings.ToLower(i.Email)
	_, err := s.q.ExecContext(ctx, `INSERT INTO invitations (`+inviteColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, i.ID, i.OrgID, i.Email, string(i.Role), i.TokenHash, i.InvitedBy,
		ms(i.CreatedAt), ms(i.ExpiresAt), nullMS(i.AcceptedAt), i.AcceptedBy, nullMS(i.RevokedAt), i.LinkMailed)
	if err != nil {
		return fmt.Errorf("store: create invitation: %w", err)
	}
	return nil
}

// Invitation returns an invitation of orgID; another organization's is
// ErrNotFound.
func (s *Store) Invitation(ctx context.Context, orgID, id string) (Invitation, error) {
	i, err := scanInvite(s.q.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invitations WHERE org_id = ? AND id = ?`, orgID, id))
	return i, notFoundOrNil("store: invitation", err)
}

// InvitationByTokenHash finds an invitation by the hash of its link's
// token. The token is the credential, so this lookup is not
// organization-scoped; the invitation's organization scopes what follows.
func (s *Store) InvitationByTokenHash(ctx context.Context, hash string) (Invitation, error) {
	i, err := scanInvite(s.q.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invitations WHERE token_hash = ?`, hash))
	return i, notFoundOrNil("store: invitation by token", err)
}

// Invitations lists an organization's invitations, newest first.
func (s *Store) Invitations(ctx context.Context, orgID string) ([]Invitation, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+inviteColumns+` FROM invitations WHERE org_id = ?
		ORDER BY created_at DESC, id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		i, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: invitations: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// ConsumeInvitation marks a pending invitation of orgID accepted by userID
// at now. It succeeds once: an invitation already accepted, revoked or
// expired is ErrConflict, so two browsers racing on one link cannot both
// create an account.
func (s *Store) ConsumeInvitation(ctx context.Context, orgID, id, userID string, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE invitations SET accepted_at = ?, accepted_by = ?
		WHERE org_id = ? AND id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
		ms(now), userID, orgID, id, ms(now))
	if err != nil {
		return fmt.Errorf("store: consume invitation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: consume invitation: %w", ErrConflict)
	}
	return nil
}

// MarkInvitationMailed records that a pending invitation's link was sent
// to the invited address (and shown nowhere). One that is not pending any
// more is ErrConflict; another organization's is ErrNotFound.
func (s *Store) MarkInvitationMailed(ctx context.Context, orgID, id string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE invitations SET link_mailed = ?
		WHERE org_id = ? AND id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, true, orgID, id)
	if err != nil {
		return fmt.Errorf("store: mark invitation mailed: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Invitation(ctx, orgID, id); err != nil {
			return err
		}
		return fmt.Errorf("store: mark invitation mailed: %w", ErrConflict)
	}
	return nil
}

// RevokeInvitation withdraws a pending invitation of orgID. One that is not
// pending any more is ErrConflict; another organization's is ErrNotFound.
func (s *Store) RevokeInvitation(ctx context.Context, orgID, id string, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE invitations SET revoked_at = ?
		WHERE org_id = ? AND id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, ms(now), orgID, id)
	if err != nil {
		return fmt.Errorf("store: revoke invitation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Nothing changed: tell "not ours" from "not pending" only now,
		// so the usual revocation is one statement.
		if _, err := s.Invitation(ctx, orgID, id); err != nil {
			return err
		}
		return fmt.Errorf("store: revoke invitation: %w", ErrConflict)
	}
	return nil
}

// RevokePendingInvitations withdraws every pending invitation of orgID to
// email (already lower-case) and returns how many there were: a new
// invitation replaces the earlier ones, and a removed member's old links
// must not let them back in.
func (s *Store) RevokePendingInvitations(ctx context.Context, orgID, email string, now time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE invitations SET revoked_at = ?
		WHERE org_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL`, ms(now), orgID, email)
	if err != nil {
		return 0, fmt.Errorf("store: revoke pending invitations: %w", err)
	}
	return res.RowsAffected()
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RegistrationToken is an initial access token for dynamic client
// registration (RFC 7591). Clients registered with it belong to its
// organization. The token itself is shown once; only its hash is stored.
type RegistrationToken struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"org_id"`
	TokenHash   string    `json:"-"`
	Description string    `json:"description"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"` // zero: no expiry
	MaxUses     int       `json:"max_uses"`            // 0: unlimited
	Uses        int       `json:"uses"`
	RevokedAt   time.Time `json:"revoked_at,omitzero"`
}

// UsableAt reports whether the token may register a client at now.
func (t RegistrationToken) UsableAt(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt)) &&
		(t.MaxUses == 0 || t.Uses < t.MaxUses)
}

const regTokenColumns = `id, org_id, token_hash, description, created_by, created_at, expires_at, max_uses, uses, revoked_at`

func scanRegToken(row interface{ Scan(...any) error }) (RegistrationToken, error) {
	var t RegistrationToken
	var created int64
	var expires, revoked sql.NullInt64
	err := row.Scan(&t.ID, &t.OrgID, &t.TokenHash, &t.Description, &t.CreatedBy, &created, &expires, &t.MaxUses, &t.Uses, &revoked)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMS(created), fromNullMS(expires), fromNullMS(revoked)
	return t, err
}

// CreateRegistrationToken stores t, assigning its ID and creation time.
func (s *Store) CreateRegistrationToken(ctx context.Context, t *RegistrationToken) error {
	if t.ID == "" {
		t.ID = NewID()
	}
	t.CreatedAt = s.Now()
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_registration_tokens (`+regTokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.OrgID, t.TokenHash, t.Description, t.CreatedBy,
		ms(t.CreatedAt), nullMS(t.ExpiresAt), t.MaxUses, t.Uses, nullMS(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("store: create registration token: %w", err)
	}
	return nil
}

// RegistrationTokenByHash finds a token by the hash of its value. The value
// is the credential, so this lookup is not organization-scoped; the token's
// organization scopes what it may do.
func (s *Store) RegistrationTokenByHash(ctx context.Context, hash string) (RegistrationToken, error) {
	t, err := scanRegToken(s.q.QueryRowContext(ctx, `SELECT `+regTokenColumns+` FROM oauth_registration_tokens WHERE token_hash = ?`, hash))
	return t, notFoundOrNil("store: registration token", err)
}

// RegistrationTokens lists an organization's initial access tokens, newest first.
func (s *Store) RegistrationTokens(ctx context.Context, orgID string) ([]RegistrationToken, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+regTokenColumns+` FROM oauth_registration_tokens WHERE org_id = ?
		ORDER BY created_at DESC, id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: registration tokens: %w", err)
	}
	defer rows.Close()
	var out []RegistrationToken
	for rows.Next() {
		t, err := scanRegToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CountRegistrationTokenUse counts one registration against a token of
// orgID; a token used up meanwhile is ErrConflict.
func (s *Store) CountRegistrationTokenUse(ctx context.Context, orgID, id string) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_registration_tokens SET uses = uses + 1
		WHERE org_id = ? AND id = ? AND revoked_at IS NULL AND (max_uses = 0 OR uses < max_uses)`, orgID, id)
	if err != nil {
		return fmt.Errorf("store: use registration token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: use registration token: %w", ErrConflict)
	}
	return nil
}

// RevokeRegistrationToken revokes a token of orgID.
func (s *Store) RevokeRegistrationToken(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_registration_tokens SET revoked_at = ?
		WHERE org_id = ? AND id = ? AND revoked_at IS NULL`, ms(at), orgID, id)
	if err != nil {
		return fmt.Errorf("store: revoke registration token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: revoke registration token: %w", ErrNotFound)
	}
	return nil
}

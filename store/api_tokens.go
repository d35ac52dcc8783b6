package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// APITokenRole is what an admin API credential may do.
type APITokenRole string

// The roles of admin API credentials: read lists and shows; admin also
// changes.
const (
	APIRoleRead  APITokenRole = "read"
	APIRoleAdmin APITokenRole = "admin"
)

// Valid reports whether r is a known role.
func (r APITokenRole) Valid() bool { return r == APIRoleRead || r == APIRoleAdmin }

// APIToken is a credential of the admin API: a bearer token (TokenHash
// set, the secret itself shown once) or a grant to an OAuth client
// (ClientID set) whose client-credentials tokens carry the admin scope.
// OrgID "" is platform-wide.
type APIToken struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	TokenHash  string       `json:"-"`
	Hint       string       `json:"hint,omitempty"`
	ClientID   string       `json:"client_id,omitempty"`
	OrgID      string       `json:"org_id,omitempty"`
	Role       APITokenRole `json:"role"`
	CreatedBy  string       `json:"created_by"`
	CreatedAt  time.Time    `json:"created_at"`
	ExpiresAt  time.Time    `json:"expires_at"`
	RevokedAt  time.Time    `json:"revoked_at,omitzero"`
	LastUsedAt time.Time    `json:"last_used_at,omitzero"`

	// CreatedByUserID is the member who made it in the portal, and
	// CreatedByTokenID the credential it was made with through the API;
	// both "" for the command line. It works only while its maker may
	// still make it (partners.Service.MakerStanding).
	CreatedByUserID  string `json:"created_by_user_id,omitempty"`
	CreatedByTokenID string `json:"created_by_token_id,omitempty"`
}

// Usable reports whether t may authenticate a request at now.
func (t APIToken) Usable(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

const apiTokenColumns = `id, name, token_hash, hint, client_id, org_id, role, created_by, created_at, expires_at,
	revoked_at, last_used_at, created_by_user_id, created_by_token_id`

func scanAPIToken(row interface{ Scan(...any) error }) (APIToken, error) {
	var t APIToken
	var hash, client, org sql.NullString
	var role string
	var created, expires int64
	var revoked, used sql.NullInt64
	err := row.Scan(&t.ID, &t.Name, &hash, &t.Hint, &client, &org, &role, &t.CreatedBy, &created, &expires, &revoked, &used,
		&t.CreatedByUserID, &t.CreatedByTokenID)
	t.TokenHash, t.ClientID, t.OrgID, t.Role = hash.String, client.String, org.String, APITokenRole(role)
	t.CreatedAt, t.ExpiresAt = fromMS(created), fromMS(expires)
	t.RevokedAt, t.LastUsedAt = fromNullMS(revoked), fromNullMS(used)
	return t, err
}

// CreateAPIToken stores t, assigning its ID and creation time. A second
// grant to the same client is ErrAlreadyExists.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	if t.ID == "" {
		t.ID = NewID()
	}
	t.CreatedAt = s.Now()
	_, err := s.q.ExecContext(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, nullString(t.TokenHash), t.Hint, nullString(t.ClientID),
		nullString(t.OrgID), string(t.Role), t.CreatedBy, ms(t.CreatedAt), ms(t.ExpiresAt), nullMS(t.RevokedAt), nullMS(t.LastUsedAt),
		t.CreatedByUserID, t.CreatedByTokenID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: api token: %w", ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: create api token: %w", err)
	}
	return nil
}

// APITokenByHash finds a bearer token by the hash of its secret. The secret
// is the credential, so the lookup is not organization-scoped.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (APIToken, error) {
	t, err := scanAPIToken(s.q.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
	return t, notFoundOrNil("store: api token by hash", err)
}

// APITokenByClient finds the admin grant of an OAuth client.
func (s *Store) APITokenByClient(ctx context.Context, clientID string) (APIToken, error) {
	t, err := scanAPIToken(s.q.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE client_id = ?`, clientID))
	return t, notFoundOrNil("store: api token by client", err)
}

// APIToken returns one credential. orgID "" looks across the platform;
// otherwise another organization's (or a platform) credential is
// ErrNotFound.
func (s *Store) APIToken(ctx context.Context, orgID, id string) (APIToken, error) {
	q := `SELECT ` + apiTokenColumns + ` FROM api_tokens WHERE id = ?`
	args := []any{id}
	if orgID != "" {
		q += ` AND org_id = ?`
		args = append(args, orgID)
	}
	t, err := scanAPIToken(s.q.QueryRowContext(ctx, q+s.forUpdate(), args...))
	return t, notFoundOrNil("store: api token", err)
}

// APITokens lists credentials, newest first: an organization's, or with
// orgID "" every one.
func (s *Store) APITokens(ctx context.Context, orgID string) ([]APIToken, error) {
	q := `SELECT ` + apiTokenColumns + ` FROM api_tokens`
	var args []any
	if orgID != "" {
		q += ` WHERE org_id = ?`
		args = append(args, orgID)
	}
	rows, err := s.q.QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: api tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: api tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken ends a credential at now and records who did it. Revoking
// a revoked credential is ErrNotFound (nothing changed).
func (s *Store) RevokeAPIToken(ctx context.Context, actor Actor, orgID, id string) (APIToken, error) {
	var after APIToken
	err := s.InTx(ctx, func(tx *Store) error {
		before, err := tx.APIToken(ctx, orgID, id)
		if err != nil {
			return err
		}
		now := tx.Now()
		res, err := tx.q.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(now), id)
		if err != nil {
			return fmt.Errorf("store: revoke api token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: api token %s already revoked: %w", id, ErrNotFound)
		}
		after = before
		after.RevokedAt = now.Truncate(time.Millisecond)
		return tx.Audit(ctx, actor.Event(before.OrgID, "api_token.revoke", "api_token", id), before, after)
	})
	return after, err
}

// TouchAPIToken records that a credential was used at now. At most one
// write a minute per credential: the column is for people, not for
// correctness.
func (s *Store) TouchAPIToken(ctx context.Context, id string, now time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, ms(now), id, ms(now.Add(-time.Minute)))
	if err != nil {
		return fmt.Errorf("store: touch api token: %w", err)
	}
	return nil
}

// IdempotentResponse is the first answer to a create sent with an
// Idempotency-Key; Status 0 means that request is still in progress.
type IdempotentResponse struct {
	Method, Path, BodyHash string
	Status                 int
	Location               string
	Body                   []byte
}

// ReserveIdempotencyKey claims (tokenID, key) for a request until expires.
// It returns claimed=true when this call took it; otherwise the stored
// answer (or the in-progress marker) of whoever did. An expired key is
// taken over.
func (s *Store) ReserveIdempotencyKey(ctx context.Context, tokenID, key string, r IdempotentResponse, expires time.Time) (bool, IdempotentResponse, error) {
	now := s.Now()
	var claimed bool
	var prev IdempotentResponse
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM api_idempotency WHERE token_id = ? AND idem_key = ? AND expires_at <= ?`,
			tokenID, key, ms(now)); err != nil {
			return fmt.Errorf("store: idempotency: %w", err)
		}
		res, err := tx.q.ExecContext(ctx, `INSERT INTO api_idempotency
			(token_id, idem_key, method, path, body_hash, status, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING`,
			tokenID, key, r.Method, r.Path, r.BodyHash, ms(now), ms(expires))
		if err != nil {
			return fmt.Errorf("store: idempotency: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claimed = true
			return nil
		}
		var body string
		err = tx.q.QueryRowContext(ctx, `SELECT method, path, body_hash, status, location, response FROM api_idempotency
			WHERE token_id = ? AND idem_key = ?`, tokenID, key).Scan(&prev.Method, &prev.Path, &prev.BodyHash, &prev.Status, &prev.Location, &body)
		prev.Body = []byte(body)
		return notFoundOrNil("store: idempotency", err)
	})
	return claimed, prev, err
}

// CompleteIdempotencyKey stores the answer of a claimed key.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, tokenID, key string, status int, location string, body []byte) error {
	_, err := s.q.ExecContext(ctx, `UPDATE api_idempotency SET status = ?, location = ?, response = ?
		WHERE token_id = ? AND idem_key = ?`, status, location, string(body), tokenID, key)
	if err != nil {
		return fmt.Errorf("store: idempotency: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey forgets a claimed key whose request failed without
// an answer worth replaying (a server error), so a retry runs again.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, tokenID, key string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM api_idempotency WHERE token_id = ? AND idem_key = ? AND status = 0`, tokenID, key)
	if err != nil {
		return fmt.Errorf("store: idempotency: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotencyKeys purges keys past their expiry.
func (s *Store) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM api_idempotency WHERE expires_at <= ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: idempotency purge: %w", err)
	}
	return res.RowsAffected()
}

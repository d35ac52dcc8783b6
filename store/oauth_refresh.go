package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// RefreshFamily is every refresh token rotated from one grant. Revoking the
// family kills all of them at once.
type RefreshFamily struct {
	ID            string
	ClientID      string // public client_id
	OrgID         string
	UserID        string
	Scopes        []string
	AuthTime      time.Time
	AMR           []string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     time.Time
	RevokedReason string
	// Resource is the API identifier (RFC 8707) the grant is for; "" for
	// the issuer itself.
	Resource string
	// DPoPJKT binds a public client's family to the DPoP key it was issued
	// to (RFC 9449 §5): every refresh must prove possession of it.
	DPoPJKT string
}

// RefreshToken is one token of a family, stored by the SHA-256 of its value.
type RefreshToken struct {
	Hash            string
	FamilyID        string
	CreatedAt       time.Time
	UsedAt          time.Time // set when rotated; a second use is reuse
	AccessJTI       string    // the access token issued alongside
	AccessExpiresAt time.Time
}

// CreateRefreshFamily stores a family and its first token.
func (s *Store) CreateRefreshFamily(ctx context.Context, f *RefreshFamily, first RefreshToken) error {
	return s.InTx(ctx, func(tx *Store) error {
		if f.ID == "" {
			f.ID = NewID()
		}
		scopes, _ := json.Marshal(nonNil(f.Scopes))
		amr, _ := json.Marshal(nonNil(f.AMR))
		_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_refresh_families (id, client_id, org_id, user_id, scopes,
			auth_time, amr, created_at, expires_at, resource, dpop_jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.ClientID, f.OrgID, f.UserID, string(scopes), nullMS(f.AuthTime), string(amr), ms(f.CreatedAt), ms(f.ExpiresAt),
			f.Resource, f.DPoPJKT)
		if err != nil {
			return fmt.Errorf("store: create refresh family: %w", err)
		}
		first.FamilyID = f.ID
		return tx.insertRefreshToken(ctx, first)
	})
}

func (s *Store) insertRefreshToken(ctx context.Context, t RefreshToken) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_refresh_tokens (hash, family_id, created_at, access_jti, access_expires_at)
		VALUES (?, ?, ?, ?, ?)`, t.Hash, t.FamilyID, ms(t.CreatedAt), t.AccessJTI, nullMS(t.AccessExpiresAt))
	if err != nil {
		return fmt.Errorf("store: insert refresh token: %w", err)
	}
	return nil
}

// RefreshToken returns a token by hash with its family.
func (s *Store) RefreshToken(ctx context.Context, hash string) (RefreshToken, RefreshFamily, error) {
	var t RefreshToken
	var f RefreshFamily
	var tCreated, fCreated, fExpires int64
	var used, accessExp, authTime, revoked sql.NullInt64
	var scopes, amr string
	err := s.q.QueryRowContext(ctx, `SELECT t.hash, t.family_id, t.created_at, t.used_at, t.access_jti, t.access_expires_at,
		f.id, f.client_id, f.org_id, f.user_id, f.scopes, f.auth_time, f.amr, f.created_at, f.expires_at, f.revoked_at,
		f.revoked_reason, f.resource, f.dpop_jkt FROM oauth_refresh_tokens t JOIN oauth_refresh_families f ON f.id = t.family_id WHERE t.hash = ?`, hash).
		Scan(&t.Hash, &t.FamilyID, &tCreated, &used, &t.AccessJTI, &accessExp, &f.ID, &f.ClientID, &f.OrgID, &f.UserID,
			&scopes, &authTime, &amr, &fCreated, &fExpires, &revoked, &f.RevokedReason, &f.Resource, &f.DPoPJKT)
	if err != nil {
		return t, f, notFound("store: refresh token", err)
	}
	if err := json.Unmarshal([]byte(scopes), &f.Scopes); err != nil {
		return t, f, err
	}
	if err := json.Unmarshal([]byte(amr), &f.AMR); err != nil {
		return t, f, err
	}
	t.CreatedAt, t.UsedAt, t.AccessExpiresAt = fromMS(tCreated), fromNullMS(used), fromNullMS(accessExp)
	f.AuthTime, f.CreatedAt, f.ExpiresAt, f.RevokedAt = fromNullMS(authTime), fromMS(fCreated), fromMS(fExpires), fromNullMS(revoked)
	return t, f, nil
}

// RotateRefreshToken marks old as used and stores next in the same family.
// If old was already used (a concurrent or replayed use) it is ErrConflict
// and nothing is stored.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next RefreshToken) error {
	return s.InTx(ctx, func(tx *Store) error {
		res, err := tx.q.ExecContext(ctx, `UPDATE oauth_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
			ms(next.CreatedAt), oldHash)
		if err != nil {
			return fmt.Errorf("store: rotate refresh token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: rotate refresh token: %w", ErrConflict)
		}
		return tx.insertRefreshToken(ctx, next)
	})
}

// RevokeRefreshFamily revokes a family and adds the access tokens issued
// from it that have not yet expired to the revoked-jti list. Revoking an
// already revoked family is not an error.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID, reason string, at time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.ExecContext(ctx, `UPDATE oauth_refresh_families SET revoked_at = ?, revoked_reason = ?
			WHERE id = ? AND revoked_at IS NULL`, ms(at), reason, familyID); err != nil {
			return fmt.Errorf("store: revoke refresh family: %w", err)
		}
		_, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_revoked_jtis (jti, expires_at)
			SELECT access_jti, access_expires_at FROM oauth_refresh_tokens
			WHERE family_id = ? AND access_jti <> '' AND access_expires_at > ?
			ON CONFLICT (jti) DO NOTHING`, familyID, ms(at))
		if err != nil {
			return fmt.Errorf("store: revoke refresh family tokens: %w", err)
		}
		return nil
	})
}

// RevokeOrgRefreshFamilies revokes every live family of an organization,
// for when its partnership ends or it is suspended.
func (s *Store) RevokeOrgRefreshFamilies(ctx context.Context, orgID, reason string, at time.Time) error {
	return s.revokeLiveFamilies(ctx, "org refresh families", `org_id = ?`, []any{orgID}, reason, at)
}

// revokeLiveFamilies revokes, with RevokeRefreshFamily, every live family
// matching where (a condition on oauth_refresh_families with args). The ids
// are read first and the rows closed, since revoking writes the same table.
func (s *Store) revokeLiveFamilies(ctx context.Context, op, where string, args []any, reason string, at time.Time) error {
	rows, err := s.q.QueryContext(ctx, `SELECT id FROM oauth_refresh_families WHERE `+where+` AND revoked_at IS NULL`, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("store: %s: %w", op, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	for _, id := range ids {
		if err := s.RevokeRefreshFamily(ctx, id, reason, at); err != nil {
			return err
		}
	}
	return nil
}

// RevokeJTI records a revoked JWT access token until it expires.
func (s *Store) RevokeJTI(ctx context.Context, jti string, expires time.Time) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_revoked_jtis (jti, expires_at) VALUES (?, ?)
		ON CONFLICT (jti) DO NOTHING`, jti, ms(expires))
	if err != nil {
		return fmt.Errorf("store: revoke jti: %w", err)
	}
	return nil
}

// JTIRevoked reports whether a JWT access token was revoked.
func (s *Store) JTIRevoked(ctx context.Context, jti string) (bool, error) {
	var one int
	err := s.q.QueryRowContext(ctx, `SELECT 1 FROM oauth_revoked_jtis WHERE jti = ?`, jti).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: jti revoked: %w", err)
	}
	return true, nil
}

// UseAssertionJTI records the jti of a client assertion; one already seen
// for that client is ErrAlreadyExists (a replay).
func (s *Store) UseAssertionJTI(ctx context.Context, clientID, jti string, expires time.Time) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_assertion_jtis (client_id, jti, expires_at) VALUES (?, ?, ?)`,
		clientID, jti, ms(expires))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: assertion jti: %w", ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: assertion jti: %w", err)
	}
	return nil
}

// PurgeExpiredOAuth deletes what has expired before now: auth requests and
// codes, refresh families, revoked jtis, assertion jtis, client
// authentication failures, pushed authorization requests and DPoP jtis. It
// returns how many rows went. When several replicas purge at once
// (PostgreSQL), one does and the others return 0 at once.
func (s *Store) PurgeExpiredOAuth(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	_, err := s.TryLock(ctx, "purge-oauth", func(tx *Store) error {
		var err error
		total, err = tx.purgeExpiredOAuth(ctx, now)
		return err
	})
	return total, err
}

func (s *Store) purgeExpiredOAuth(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM oauth_auth_requests WHERE expires_at < ?`,
		`DELETE FROM oauth_refresh_families WHERE expires_at < ?`,
		`DELETE FROM oauth_revoked_jtis WHERE expires_at < ?`,
		`DELETE FROM oauth_assertion_jtis WHERE expires_at < ?`,
		`DELETE FROM oauth_client_auth_failures WHERE expires_at < ?`,
		`DELETE FROM oauth_par_requests WHERE expires_at < ?`,
		`DELETE FROM oauth_dpop_jtis WHERE expires_at < ?`,
	} {
		res, err := s.q.ExecContext(ctx, q, ms(now))
		if err != nil {
			return total, fmt.Errorf("store: purge: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SigningKey is one of the authorization server's token-signing keys. The
// private key is sealed (see Sealer); PublicJWK is the JSON Web Key
// published in the JWKS.
type SigningKey struct {
	ID         string
	Alg        string // ES256, RS256
	PublicJWK  string
	PrivateKey []byte // sealed PKCS #8
	CreatedAt  time.Time
	RetiredAt  time.Time // zero while the key still signs
}

// CreateSigningKey stores a new key.
func (s *Store) CreateSigningKey(ctx context.Context, k *SigningKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.Now()
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_signing_keys (id, alg, public_jwk, private_key, created_at, retired_at)
		VALUES (?, ?, ?, ?, ?, ?)`, k.ID, k.Alg, k.PublicJWK, k.PrivateKey, ms(k.CreatedAt), nullMS(k.RetiredAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: signing key %s: %w", k.ID, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: create signing key: %w", err)
	}
	return nil
}

// SigningKeys lists keys that still sign or were retired after
// retiredAfter (their public part must stay published), newest first.
func (s *Store) SigningKeys(ctx context.Context, retiredAfter time.Time) ([]SigningKey, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, alg, public_jwk, private_key, created_at, retired_at
		FROM oauth_signing_keys WHERE retired_at IS NULL OR retired_at > ? ORDER BY created_at DESC, id`, ms(retiredAfter))
	if err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Alg, &k.PublicJWK, &k.PrivateKey, &created, &retired); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RetiredAt = fromMS(created), fromNullMS(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RetireSigningKeys marks every still-signing key of alg as retired at at.
func (s *Store) RetireSigningKeys(ctx context.Context, alg string, at time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE oauth_signing_keys SET retired_at = ? WHERE alg = ? AND retired_at IS NULL`, ms(at), alg)
	if err != nil {
		return fmt.Errorf("store: retire signing keys: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// TrustedIssuer is a partner's token issuer an organization trusts: JWTs it
// signs may be exchanged (RFC 8693) or presented as JWT bearer assertions
// (RFC 7523) by the organization's clients.
type TrustedIssuer struct {
	ID    string `json:"id"`
	OrgID string `json:"org_id"`
	// Issuer is the exact iss the tokens carry.
	Issuer string `json:"issuer"`
	// JWKSURI is where its keys are; empty means OpenID discovery at
	// Issuer/.well-known/openid-configuration.
	JWKSURI string `json:"jwks_uri,omitempty"`
	// Audiences are the aud values a token must name one of; empty means
	// Portico's issuer URL or its token endpoint.
	Audiences []string `json:"audiences"`
	// SubjectClaim names the claim that becomes the subject (default sub);
	// GroupsClaim the one carrying groups (empty: none); AttributeClaims
	// maps attribute names to claim names.
	SubjectClaim    string            `json:"subject_claim"`
	GroupsClaim     string            `json:"groups_claim,omitempty"`
	AttributeClaims map[string]string `json:"attribute_claims,omitempty"`
	// MaxAge refuses tokens issued longer ago (iat); zero means only exp counts.
	MaxAge time.Duration `json:"max_age"`
	// Algorithms are the JWS algorithms accepted.
	Algorithms []string  `json:"algorithms"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

const trustedIssuerColumns = `id, org_id, issuer, jwks_uri, audiences, subject_claim, groups_claim,
	attribute_claims, max_age_seconds, algorithms, created_at, updated_at`

func scanTrustedIssuer(row interface{ Scan(...any) error }) (TrustedIssuer, error) {
	var ti TrustedIssuer
	var auds, attrs, algs string
	var maxAge, created, updated int64
	if err := row.Scan(&ti.ID, &ti.OrgID, &ti.Issuer, &ti.JWKSURI, &auds, &ti.SubjectClaim, &ti.GroupsClaim,
		&attrs, &maxAge, &algs, &created, &updated); err != nil {
		return ti, err
	}
	for _, f := range []struct {
		src string
		dst any
	}{{auds, &ti.Audiences}, {attrs, &ti.AttributeClaims}, {algs, &ti.Algorithms}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return ti, fmt.Errorf("trusted issuer %s: %w", ti.Issuer, err)
		}
	}
	ti.MaxAge = time.Duration(maxAge) * time.Second
	ti.CreatedAt, ti.UpdatedAt = fromMS(created), fromMS(updated)
	return ti, nil
}

// CreateTrustedIssuer stores ti for ti.OrgID; the same issuer twice in one
// organization is ErrAlreadyExists.
func (s *Store) CreateTrustedIssuer(ctx context.Context, ti *TrustedIssuer) error {
	if ti.ID == "" {
		ti.ID = NewID()
	}
	now := time.Now().UTC()
	ti.CreatedAt, ti.UpdatedAt = now, now
	if ti.Audiences == nil {
		ti.Audiences = []string{}
	}
	if ti.Algorithms == nil {
		ti.Algorithms = []string{}
	}
	if ti.AttributeClaims == nil {
		ti.AttributeClaims = map[string]string{}
	}
	auds, _ := json.Marshal(ti.Audiences)
	attrs, _ := json.Marshal(ti.AttributeClaims)
	algs, _ := json.Marshal(ti.Algorithms)
	_, err := s.q.ExecContext(ctx, `INSERT INTO trusted_issuers (`+trustedIssuerColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ti.ID, ti.OrgID, ti.Issuer, ti.JWKSURI, string(auds), ti.SubjectClaim, ti.GroupsClaim, string(attrs),
		int64(ti.MaxAge/time.Second), string(algs), ms(now), ms(now))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create trusted issuer: %w", ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: create trusted issuer: %w", err)
	}
	return nil
}

// TrustedIssuer returns orgID's trusted issuer id; another organization's
// is ErrNotFound.
func (s *Store) TrustedIssuer(ctx context.Context, orgID, id string) (TrustedIssuer, error) {
	ti, err := scanTrustedIssuer(s.q.QueryRowContext(ctx,
		`SELECT `+trustedIssuerColumns+` FROM trusted_issuers WHERE org_id = ? AND id = ?`, orgID, id))
	return ti, notFoundErr("store: trusted issuer", err)
}

// TrustedIssuerByURL returns orgID's trusted issuer whose iss is issuer.
func (s *Store) TrustedIssuerByURL(ctx context.Context, orgID, issuer string) (TrustedIssuer, error) {
	ti, err := scanTrustedIssuer(s.q.QueryRowContext(ctx,
		`SELECT `+trustedIssuerColumns+` FROM trusted_issuers WHERE org_id = ? AND issuer = ?`, orgID, issuer))
	return ti, notFoundErr("store: trusted issuer", err)
}

// TrustedIssuerRegisteredElsewhere reports whether an organization other
// than orgID trusts issuer: only so a refusal can say why, never to accept.
func (s *Store) TrustedIssuerRegisteredElsewhere(ctx context.Context, orgID, issuer string) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM trusted_issuers WHERE issuer = ? AND org_id <> ?`,
		issuer, orgID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: trusted issuer elsewhere: %w", err)
	}
	return n > 0, nil
}

// TrustedIssuers lists orgID's trusted issuers by issuer URL.
func (s *Store) TrustedIssuers(ctx context.Context, orgID string) ([]TrustedIssuer, error) {
	rows, err := s.q.QueryContext(ctx,
		`SELECT `+trustedIssuerColumns+` FROM trusted_issuers WHERE org_id = ? ORDER BY issuer`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: trusted issuers: %w", err)
	}
	defer rows.Close()
	var out []TrustedIssuer
	for rows.Next() {
		ti, err := scanTrustedIssuer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: trusted issuers: %w", err)
		}
		out = append(out, ti)
	}
	return out, rows.Err()
}

// DeleteTrustedIssuer removes orgID's trusted issuer id, with its client
// bindings and seen jtis; another organization's is ErrNotFound.
func (s *Store) DeleteTrustedIssuer(ctx context.Context, orgID, id string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM trusted_issuers WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete trusted issuer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete trusted issuer: %w", ErrNotFound)
	}
	if _, err := s.q.ExecContext(ctx, `DELETE FROM trusted_issuer_jtis WHERE issuer_id = ?`, id); err != nil {
		return fmt.Errorf("store: delete trusted issuer: %w", err)
	}
	return nil
}

// TrustedIssuerExists reports whether orgID still trusts issuer id: tokens
// Portico issued on its word die with it.
func (s *Store) TrustedIssuerExists(ctx context.Context, orgID, id string) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM trusted_issuers WHERE org_id = ? AND id = ?`,
		orgID, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: trusted issuer exists: %w", err)
	}
	return n > 0, nil
}

// UseIssuerJTI records a jti of a token from issuer issuerID and reports
// whether it was new: false means a replay. The conditional INSERT's row
// count decides, so the check holds across replicas.
func (s *Store) UseIssuerJTI(ctx context.Context, issuerID, jti string, expires time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `INSERT INTO trusted_issuer_jtis (issuer_id, jti, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (issuer_id, jti) DO NOTHING`, issuerID, jti, ms(expires))
	if err != nil {
		return false, fmt.Errorf("store: issuer jti: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: issuer jti: %w", err)
	}
	return n == 1, nil
}

// PurgeIssuerJTIs deletes seen jtis that expired before now.
func (s *Store) PurgeIssuerJTIs(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM trusted_issuer_jtis WHERE expires_at < ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("store: purge issuer jtis: %w", err)
	}
	return res.RowsAffected()
}

// BindClientIssuer binds orgID's client clientID to its trusted issuer
// issuerID (replacing an earlier binding). Either belonging to another
// organization is ErrNotFound.
func (s *Store) BindClientIssuer(ctx context.Context, orgID, clientID, issuerID string) error {
	if _, err := s.ClientByClientID(ctx, orgID, clientID); err != nil {
		return err
	}
	if _, err := s.TrustedIssuer(ctx, orgID, issuerID); err != nil {
		return err
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO client_issuer_bindings (client_id, org_id, issuer_id) VALUES (?, ?, ?)
		ON CONFLICT (client_id) DO UPDATE SET issuer_id = excluded.issuer_id`, clientID, orgID, issuerID)
	if err != nil {
		return fmt.Errorf("store: bind client issuer: %w", err)
	}
	return nil
}

// ClientIssuerBinding returns the trusted issuer id clientID is bound to, or
// "" when it is not bound.
func (s *Store) ClientIssuerBinding(ctx context.Context, clientID string) (string, error) {
	var id string
	err := s.q.QueryRowContext(ctx, `SELECT issuer_id FROM client_issuer_bindings WHERE client_id = ?`, clientID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: client issuer binding: %w", err)
	}
	return id, nil
}

func notFoundErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return notFound(op, err)
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Consent is what a user allowed a third-party client: every scope they
// agreed to on its consent page, kept until they revoke it.
type Consent struct {
	UserID    string
	ClientID  string // the public client_id
	Scopes    []string
	CreatedAt time.Time
	GrantedAt time.Time // when the user last clicked Allow
}

// Covers reports whether the consent includes every scope asked for.
func (c Consent) Covers(scopes []string) bool {
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return false
		}
	}
	return true
}

// ConnectedApp is a consent as the user's account page lists it.
type ConnectedApp struct {
	Consent
	ClientName string
	LogoURL    string
	OrgName    string // the organization that registered the client
}

// Consent returns userID's consent for clientID, or ErrNotFound.
func (s *Store) Consent(ctx context.Context, userID, clientID string) (Consent, error) {
	c := Consent{UserID: userID, ClientID: clientID}
	var scopes string
	var created, granted int64
	err := s.q.QueryRowContext(ctx, `SELECT scopes, created_at, granted_at FROM oauth_consents
		WHERE user_id = ? AND client_id = ?`, userID, clientID).Scan(&scopes, &created, &granted)
	if err != nil {
		return c, notFound("store: consent", err)
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return c, fmt.Errorf("store: consent scopes: %w", err)
	}
	c.CreatedAt, c.GrantedAt = fromMS(created), fromMS(granted)
	return c, nil
}

// GrantConsent adds scopes to userID's consent for clientID (creating it)
// and records now as the moment of the grant.
func (s *Store) GrantConsent(ctx context.Context, userID, clientID string, scopes []string, now time.Time) (Consent, error) {
	var out Consent
	err := s.InTx(ctx, func(tx *Store) error {
		c, err := tx.Consent(ctx, userID, clientID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err != nil {
			c = Consent{UserID: userID, ClientID: clientID, CreatedAt: now}
		}
		for _, sc := range scopes {
			if !slices.Contains(c.Scopes, sc) {
				c.Scopes = append(c.Scopes, sc)
			}
		}
		c.GrantedAt = now
		b, _ := json.Marshal(nonNil(c.Scopes))
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO oauth_consents (user_id, client_id, scopes, created_at, granted_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes,
			granted_at = excluded.granted_at`, userID, clientID, string(b), ms(c.CreatedAt), ms(c.GrantedAt)); err != nil {
			return fmt.Errorf("store: grant consent: %w", err)
		}
		out = c
		return nil
	})
	return out, err
}

// ConnectedApps lists the third-party clients userID has allowed, by name.
func (s *Store) ConnectedApps(ctx context.Context, userID string) ([]ConnectedApp, error) {
	// A client without a row (an MCP agent known by its metadata document
	// URL) is listed under its client_id, so it can still be revoked.
	rows, err := s.q.QueryContext(ctx, `SELECT c.client_id, c.scopes, c.created_at, c.granted_at,
		COALESCE(k.name, c.client_id), COALESCE(k.logo_url, ''), COALESCE(o.name, '')
		FROM oauth_consents c LEFT JOIN oauth_clients k ON k.client_id = c.client_id
		LEFT JOIN organizations o ON o.id = k.org_id
		WHERE c.user_id = ? ORDER BY COALESCE(k.name, c.client_id), c.client_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: connected apps: %w", err)
	}
	defer rows.Close()
	var out []ConnectedApp
	for rows.Next() {
		a := ConnectedApp{Consent: Consent{UserID: userID}}
		var scopes string
		var created, granted int64
		if err := rows.Scan(&a.ClientID, &scopes, &created, &granted, &a.ClientName, &a.LogoURL, &a.OrgName); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(scopes), &a.Scopes); err != nil {
			return nil, fmt.Errorf("store: consent scopes: %w", err)
		}
		a.CreatedAt, a.GrantedAt = fromMS(created), fromMS(granted)
		out = append(out, a)
	}
	return out, rows.Err()
}

// RevokeConsent deletes userID's consent for clientID and, in the same
// transaction, revokes every refresh-token family the client holds for the
// user (and the access tokens issued from them). No consent is ErrNotFound.
func (s *Store) RevokeConsent(ctx context.Context, userID, clientID string, now time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		res, err := tx.q.ExecContext(ctx, `DELETE FROM oauth_consents WHERE user_id = ? AND client_id = ?`, userID, clientID)
		if err != nil {
			return fmt.Errorf("store: revoke consent: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: revoke consent: %w", ErrNotFound)
		}
		return tx.RevokeUserClientRefreshFamilies(ctx, userID, clientID, "consent revoked", now)
	})
}

// RevokeUserClientRefreshFamilies revokes every live refresh-token family
// of clientID for userID.
func (s *Store) RevokeUserClientRefreshFamilies(ctx context.Context, userID, clientID, reason string, now time.Time) error {
	return s.revokeLiveFamilies(ctx, "user client refresh families", `user_id = ? AND client_id = ?`, []any{userID, clientID}, reason, now)
}

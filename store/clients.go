package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// ClientType decides how an application authenticates and which grants it
// may use: web apps are confidential, SPAs and native apps are public (PKCE),
// services are machine-to-machine.
type ClientType string

// Client types.
const (
	ClientWeb     ClientType = "web"
	ClientSPA     ClientType = "spa"
	ClientNative  ClientType = "native"
	ClientService ClientType = "service"
)

// Valid reports whether t is one of the four client types.
func (t ClientType) Valid() bool {
	switch t {
	case ClientWeb, ClientSPA, ClientNative, ClientService:
		return true
	}
	return false
}

// Confidential reports whether clients of this type hold credentials.
func (t ClientType) Confidential() bool { return t == ClientWeb || t == ClientService }

// Client is an application registered by an organization. Sensitive values
// (secret hashes, the registration access token hash) never reach JSON, so
// the struct can go into the audit log as it is.
type Client struct {
	ID                     string     `json:"id"`
	OrgID                  string     `json:"org_id"`
	ClientID               string     `json:"client_id"`
	Name                   string     `json:"name"`
	Type                   ClientType `json:"type"`
	RedirectURIs           []string   `json:"redirect_uris"`
	PostLogoutRedirectURIs []string   `json:"post_logout_redirect_uris"`
	GrantTypes             []string   `json:"grant_types"`
	Scopes                 []string   `json:"scopes"`
	LaunchURL              string     `json:"launch_url,omitempty"`
	LogoURL                string     `json:"logo_url,omitempty"`
	PolicyID               string     `json:"policy_id,omitempty"` // empty: no policy attached
	Enabled                bool       `json:"enabled"`
	// TokenEndpointAuthMethod is client_secret_basic, client_secret_post,
	// private_key_jwt or none.
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	JWKS                    string `json:"jwks,omitempty"` // a JSON Web Key Set, for private_key_jwt
	JWKSURI                 string `json:"jwks_uri,omitempty"`
	IDTokenSignedAlg        string `json:"id_token_signed_response_alg"`
	// RegistrationTokenHash is the keyed hash of the RFC 7592 registration
	// access token; empty for clients not registered dynamically.
	RegistrationTokenHash string `json:"-"`
	Dynamic               bool   `json:"dynamic"`
	// FirstParty clients are the platform's own and skip the consent page.
	// Only platform admins set it; new and dynamically registered clients
	// are third-party.
	FirstParty bool           `json:"first_party"`
	Secrets    []ClientSecret `json:"secrets,omitempty"`
	// ExchangeAnySubject lets the client exchange (RFC 8693) subject tokens
	// of its organization that were issued to other clients and do not name
	// it in aud. Only a platform admin sets it.
	ExchangeAnySubject bool `json:"exchange_any_subject,omitempty"`
	// RequirePAR: the client's authorization requests must be pushed first
	// (RFC 9126 §6). RequireDPoP: its token requests must carry a DPoP
	// proof (RFC 9449). FAPI2 holds it to the FAPI 2.0 Security Profile,
	// which implies both. Only a platform admin sets them.
	RequirePAR  bool      `json:"require_par,omitempty"`
	RequireDPoP bool      `json:"require_dpop,omitempty"`
	FAPI2       bool      `json:"fapi2,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ClientSecret is one stored secret of a client. Hash is a keyed hash; the
// plaintext is shown once and never stored.
type ClientSecret struct {
	ID        string    `json:"id"`
	Hash      string    `json:"-"`
	Hint      string    `json:"hint"` // last characters, to tell secrets apart
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: does not expire
}

// LiveAt reports whether the secret is still accepted at now.
func (s ClientSecret) LiveAt(now time.Time) bool {
	return s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt)
}

const clientColumns = `id, org_id, client_id, name, type, redirect_uris, post_logout_redirect_uris,
	grant_types, scopes, launch_url, logo_url, COALESCE(policy_id, ''), enabled, token_endpoint_auth_method,
	jwks, jwks_uri, id_token_signed_response_alg, registration_token_hash, dynamic, created_at, updated_at,
	exchange_any_subject, first_party, require_par, require_dpop, fapi2`

func scanClient(row interface{ Scan(...any) error }) (Client, error) {
	var c Client
	var typ, redirects, logouts, grants, scopes string
	var created, updated int64
	err := row.Scan(&c.ID, &c.OrgID, &c.ClientID, &c.Name, &typ, &redirects, &logouts, &grants, &scopes,
		&c.LaunchURL, &c.LogoURL, &c.PolicyID, &c.Enabled, &c.TokenEndpointAuthMethod, &c.JWKS, &c.JWKSURI,
		&c.IDTokenSignedAlg, &c.RegistrationTokenHash, &c.Dynamic, &created, &updated, &c.ExchangeAnySubject, &c.FirstParty,
		&c.RequirePAR, &c.RequireDPoP, &c.FAPI2)
	if err != nil {
		return c, err
	}
	c.Type = ClientType(typ)
	for _, f := range []struct {
		src string
		dst *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {grants, &c.GrantTypes}, {scopes, &c.Scopes}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return c, fmt.Errorf("client %s: %w", c.ClientID, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

func (s *Store) clientWhere(ctx context.Context, op, where string, args ...any) (Client, error) {
	c, err := scanClient(s.q.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE `+where+s.forUpdate(), args...))
	if err != nil {
		return c, notFound(op, err)
	}
	if c.Secrets, err = s.clientSecrets(ctx, c.ID); err != nil {
		return c, fmt.Errorf("%s: %w", op, err)
	}
	return c, nil
}

// Client returns a client of orgID by its internal ID; another
// organization's client is ErrNotFound.
func (s *Store) Client(ctx context.Context, orgID, id string) (Client, error) {
	return s.clientWhere(ctx, "store: client", "org_id = ? AND id = ?", orgID, id)
}

// ClientByClientID returns a client of orgID by its public client_id.
func (s *Store) ClientByClientID(ctx context.Context, orgID, clientID string) (Client, error) {
	return s.clientWhere(ctx, "store: client by client_id", "org_id = ? AND client_id = ?", orgID, clientID)
}

// LookupClient returns the client with a public client_id whatever its
// organization. Only the authorization server uses it: a protocol request
// names nothing but the client_id, and the client's organization then scopes
// everything that follows.
func (s *Store) LookupClient(ctx context.Context, clientID string) (Client, error) {
	return s.clientWhere(ctx, "store: lookup client", "client_id = ?", clientID)
}

// Clients lists an organization's clients by name.
func (s *Store) Clients(ctx context.Context, orgID string) ([]Client, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE org_id = ? ORDER BY name, client_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("store: clients: %w", err)
	}
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: clients: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Secrets, err = s.clientSecrets(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CountClients returns how many clients an organization has, for plan caps.
func (s *Store) CountClients(ctx context.Context, orgID string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM oauth_clients WHERE org_id = ?`, orgID).Scan(&n)
	return n, err
}

// CreateClient inserts c with its secrets, assigning IDs and timestamps. A
// taken client_id is ErrAlreadyExists.
func (s *Store) CreateClient(ctx context.Context, c *Client) error {
	return s.InTx(ctx, func(tx *Store) error {
		now := tx.Now()
		if c.ID == "" {
			c.ID = NewID()
		}
		c.CreatedAt, c.UpdatedAt = now, now
		if err := tx.writeClient(ctx, c, true); err != nil {
			return err
		}
		for i := range c.Secrets {
			if err := tx.insertSecret(ctx, c.ID, &c.Secrets[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) writeClient(ctx context.Context, c *Client, insert bool) error {
	js := func(v []string) string { b, _ := json.Marshal(nonNil(v)); return string(b) }
	policy := sql.NullString{String: c.PolicyID, Valid: c.PolicyID != ""}
	var err error
	if insert {
		_, err = s.q.ExecContext(ctx, `INSERT INTO oauth_clients (`+clientColumnsInsert+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.OrgID, c.ClientID, c.Name, string(c.Type), js(c.RedirectURIs), js(c.PostLogoutRedirectURIs),
			js(c.GrantTypes), js(c.Scopes), c.LaunchURL, c.LogoURL, policy, c.Enabled, c.TokenEndpointAuthMethod,
			c.JWKS, c.JWKSURI, c.IDTokenSignedAlg, c.RegistrationTokenHash, c.Dynamic, ms(c.CreatedAt), ms(c.UpdatedAt),
			c.ExchangeAnySubject, c.FirstParty, c.RequirePAR, c.RequireDPoP, c.FAPI2)
	} else {
		_, err = s.q.ExecContext(ctx, `UPDATE oauth_clients SET name = ?, type = ?, redirect_uris = ?,
			post_logout_redirect_uris = ?, grant_types = ?, scopes = ?, launch_url = ?, logo_url = ?, policy_id = ?,
			enabled = ?, token_endpoint_auth_method = ?, jwks = ?, jwks_uri = ?, id_token_signed_response_alg = ?,
			registration_token_hash = ?, updated_at = ?, exchange_any_subject = ?, first_party = ?, require_par = ?, require_dpop = ?, fapi2 = ?
			WHERE id = ? AND org_id = ?`,
			c.Name, string(c.Type), js(c.RedirectURIs), js(c.PostLogoutRedirectURIs), js(c.GrantTypes), js(c.Scopes),
			c.LaunchURL, c.LogoURL, policy, c.Enabled, c.TokenEndpointAuthMethod, c.JWKS, c.JWKSURI,
			c.IDTokenSignedAlg, c.RegistrationTokenHash, ms(c.UpdatedAt), c.ExchangeAnySubject, c.FirstParty, c.RequirePAR, c.RequireDPoP, c.FAPI2, c.ID, c.OrgID)
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("store: client %q: %w", c.ClientID, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: write client: %w", err)
	}
	return nil
}

const clientColumnsInsert = `id, org_id, client_id, name, type, redirect_uris, post_logout_redirect_uris,
	grant_types, scopes, launch_url, logo_url, policy_id, enabled, token_endpoint_auth_method,
	jwks, jwks_uri, id_token_signed_response_alg, registration_token_hash, dynamic, created_at, updated_at,
	exchange_any_subject, first_party, require_par, require_dpop, fapi2`

// UpdateClient changes a client of orgID in one transaction and returns it
// before and after. ID, organization, client_id and creation time are kept;
// secrets are changed with the secret methods, not here.
func (s *Store) UpdateClient(ctx context.Context, orgID, id string, update func(*Client) error) (before, after Client, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		if before, err = tx.Client(ctx, orgID, id); err != nil {
			return err
		}
		after = before
		after.RedirectURIs = slices.Clone(before.RedirectURIs)
		after.PostLogoutRedirectURIs = slices.Clone(before.PostLogoutRedirectURIs)
		after.GrantTypes = slices.Clone(before.GrantTypes)
		after.Scopes = slices.Clone(before.Scopes)
		after.Secrets = slices.Clone(before.Secrets)
		if err := update(&after); err != nil {
			return err
		}
		after.ID, after.OrgID, after.ClientID = before.ID, before.OrgID, before.ClientID
		after.CreatedAt, after.UpdatedAt, after.Secrets = before.CreatedAt, tx.Now(), before.Secrets
		return tx.writeClient(ctx, &after, false)
	})
	return before, after, err
}

// DeleteClient removes a client of orgID and its secrets.
func (s *Store) DeleteClient(ctx context.Context, orgID, id string) error {
	return s.InTx(ctx, func(tx *Store) error {
		// Consents carry no foreign key (agents without a row have them too).
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM oauth_consents WHERE client_id IN
			(SELECT client_id FROM oauth_clients WHERE org_id = ? AND id = ?)`, orgID, id); err != nil {
			return fmt.Errorf("store: delete client: %w", err)
		}
		res, err := tx.q.ExecContext(ctx, `DELETE FROM oauth_clients WHERE org_id = ? AND id = ?`, orgID, id)
		if err != nil {
			return fmt.Errorf("store: delete client: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: delete client: %w", ErrNotFound)
		}
		return nil
	})
}

func (s *Store) clientSecrets(ctx context.Context, clientPK string) ([]ClientSecret, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, hash, hint, created_at, expires_at FROM oauth_client_secrets
		WHERE client_id = ? ORDER BY created_at DESC, id`, clientPK)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ClientSecret
	for rows.Next() {
		var cs ClientSecret
		var created int64
		var expires sql.NullInt64
		if err := rows.Scan(&cs.ID, &cs.Hash, &cs.Hint, &created, &expires); err != nil {
			return nil, err
		}
		cs.CreatedAt, cs.ExpiresAt = fromMS(created), fromNullMS(expires)
		out = append(out, cs)
	}
	return out, rows.Err()
}

func (s *Store) insertSecret(ctx context.Context, clientPK string, cs *ClientSecret) error {
	if cs.ID == "" {
		cs.ID = NewID()
	}
	if cs.CreatedAt.IsZero() {
		cs.CreatedAt = s.Now()
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_client_secrets (id, client_id, hash, hint, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, cs.ID, clientPK, cs.Hash, cs.Hint, ms(cs.CreatedAt), nullMS(cs.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: add client secret: %w", err)
	}
	return nil
}

// ReplaceClientSecrets sets the secrets of a client of orgID to exactly
// secrets (new ones have no ID yet; kept ones keep theirs, with possibly a
// new expiry) and returns the client after the change.
func (s *Store) ReplaceClientSecrets(ctx context.Context, orgID, id string, secrets []ClientSecret) (Client, error) {
	var out Client
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.Client(ctx, orgID, id); err != nil {
			return err
		}
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM oauth_client_secrets WHERE client_id = ?`, id); err != nil {
			return fmt.Errorf("store: replace client secrets: %w", err)
		}
		for i := range secrets {
			if err := tx.insertSecret(ctx, id, &secrets[i]); err != nil {
				return err
			}
		}
		if _, err := tx.q.ExecContext(ctx, `UPDATE oauth_clients SET updated_at = ? WHERE id = ?`, ms(tx.Now()), id); err != nil {
			return err
		}
		var err error
		out, err = tx.Client(ctx, orgID, id)
		return err
	})
	return out, err
}

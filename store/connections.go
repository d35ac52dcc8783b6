package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Connection is one way an organization's people authenticate: an upstream
// OIDC or SAML IdP, a social provider, the sandbox IdP or the identity pool.
// What Config means depends on Type; the federation package reads it.
type Connection struct {
	ID     string
	OrgID  string
	Type   string
	Name   string
	Config json.RawMessage // the type's public configuration
	// Secret is sealed with store.Sealer by the caller; the store never
	// sees it in the clear.
	Secret      []byte
	Enabled     bool
	ShowOnLogin bool // listed under "sign in with" on the login page
	// Version grows with every update; caches of opened connectors compare
	// it to decide whether to reopen.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

const connectionColumns = `id, org_id, type, name, config, secret, enabled, show_on_login, version, created_at, updated_at`

func scanConnection(row interface{ Scan(...any) error }) (Connection, error) {
	var x Connection
	var cfg string
	var created, updated int64
	err := row.Scan(&x.ID, &x.OrgID, &x.Type, &x.Name, &cfg, &x.Secret, &x.Enabled, &x.ShowOnLogin, &x.Version,
		&created, &updated)
	x.Config = json.RawMessage(cfg)
	x.CreatedAt, x.UpdatedAt = fromMS(created), fromMS(updated)
	return x, err
}

func (s *Store) connections(ctx context.Context, op, where string, args ...any) ([]Connection, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []Connection
	for rows.Next() {
		x, err := scanConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Connection returns a connection of orgID; another organization's
// connection is ErrNotFound.
func (s *Store) Connection(ctx context.Context, orgID, id string) (Connection, error) {
	x, err := scanConnection(s.q.QueryRowContext(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE org_id = ? AND id = ?`+s.forUpdate(), orgID, id))
	return x, notFoundOrNil("store: connection", err)
}

// ConnectionByID returns a connection whatever its organization. Only the
// sign-in flow uses it, with an ID it stored itself in a pending login, and
// the connector cache, which is keyed by ID.
func (s *Store) ConnectionByID(ctx context.Context, id string) (Connection, error) {
	x, err := scanConnection(s.q.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = ?`, id))
	return x, notFoundOrNil("store: connection by id", err)
}

// Connections lists an organization's connections by name.
func (s *Store) Connections(ctx context.Context, orgID string) ([]Connection, error) {
	return s.connections(ctx, "store: connections", "org_id = ? ORDER BY name, id", orgID)
}

// LoginListConnections lists the enabled connections that organizations
// chose to show on the sign-in page.
func (s *Store) LoginListConnections(ctx context.Context) ([]Connection, error) {
	return s.connections(ctx, "store: login list connections", "enabled = 1 AND show_on_login = 1 ORDER BY name, id")
}

// CreateConnection inserts x, assigning its ID, version and timestamps.
func (s *Store) CreateConnection(ctx context.Context, x *Connection) error {
	now := s.Now()
	if x.ID == "" {
		x.ID = NewID()
	}
	if len(x.Config) == 0 {
		x.Config = json.RawMessage("{}")
	}
	x.Version, x.CreatedAt, x.UpdatedAt = 1, now, now
	_, err := s.q.ExecContext(ctx, `INSERT INTO connections (`+connectionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.OrgID, x.Type, x.Name, string(x.Config), x.Secret, x.Enabled, x.ShowOnLogin, x.Version,
		ms(now), ms(now))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: connection %s: %w", x.ID, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: create connection: %w", err)
	}
	return nil
}

// UpdateConnection changes a connection of orgID in one transaction and
// bumps its version. ID, organization and type cannot change.
func (s *Store) UpdateConnection(ctx context.Context, orgID, id string, update func(*Connection) error) (before, after Connection, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		if before, err = tx.Connection(ctx, orgID, id); err != nil {
			return err
		}
		after = before
		after.Config = append(json.RawMessage(nil), before.Config...)
		after.Secret = append([]byte(nil), before.Secret...)
		if err := update(&after); err != nil {
			return err
		}
		after.ID, after.OrgID, after.Type, after.CreatedAt = before.ID, before.OrgID, before.Type, before.CreatedAt
		after.Version, after.UpdatedAt = before.Version+1, tx.Now()
		_, err := tx.q.ExecContext(ctx, `UPDATE connections SET name = ?, config = ?, secret = ?, enabled = ?,
			show_on_login = ?, version = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			after.Name, string(after.Config), after.Secret, after.Enabled, after.ShowOnLogin, after.Version,
			ms(after.UpdatedAt), orgID, id)
		if err != nil {
			return fmt.Errorf("store: update connection: %w", err)
		}
		return nil
	})
	return before, after, err
}

// AllowedConnectionTypes returns the types a platform admin allows orgID to
// add, and false when no restriction is set (every type is allowed).
func (s *Store) AllowedConnectionTypes(ctx context.Context, orgID string) ([]string, bool, error) {
	var raw string
	err := s.q.QueryRowContext(ctx, `SELECT types FROM org_connection_types WHERE org_id = ?`, orgID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: allowed connection types: %w", err)
	}
	var types []string
	if err := json.Unmarshal([]byte(raw), &types); err != nil {
		return nil, false, fmt.Errorf("store: allowed connection types: %w", err)
	}
	return types, true, nil
}

// SetAllowedConnectionTypes restricts the connection types orgID may add;
// nil removes the restriction.
func (s *Store) SetAllowedConnectionTypes(ctx context.Context, orgID string, types []string) error {
	if types == nil {
		_, err := s.q.ExecContext(ctx, `DELETE FROM org_connection_types WHERE org_id = ?`, orgID)
		return err
	}
	raw, _ := json.Marshal(types)
	_, err := s.q.ExecContext(ctx, `INSERT INTO org_connection_types (org_id, types) VALUES (?, ?)
		ON CONFLICT (org_id) DO UPDATE SET types = excluded.types`, orgID, string(raw))
	if err != nil {
		return fmt.Errorf("store: set allowed connection types: %w", err)
	}
	return nil
}

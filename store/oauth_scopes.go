package store

import (
	"context"
	"fmt"
	"time"
)

// Scope is an API scope that admins define; clients may ask only for
// registered scopes (and the built-in OpenID Connect ones).
type Scope struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// APIID is the API the scope belongs to; "" for a portal-wide scope.
	APIID     string    `json:"api_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateScope registers a scope; a taken name is ErrAlreadyExists.
func (s *Store) CreateScope(ctx context.Context, sc *Scope) error {
	sc.CreatedAt = s.Now()
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_scopes (name, description, created_at) VALUES (?, ?, ?)`,
		sc.Name, sc.Description, ms(sc.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: scope %q: %w", sc.Name, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: create scope: %w", err)
	}
	return nil
}

// Scopes lists the registered scopes by name, portal-wide and APIs' alike.
func (s *Store) Scopes(ctx context.Context) ([]Scope, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT name, description, COALESCE(api_id, ''), created_at FROM oauth_scopes ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: scopes: %w", err)
	}
	defer rows.Close()
	var out []Scope
	for rows.Next() {
		var sc Scope
		var created int64
		if err := rows.Scan(&sc.Name, &sc.Description, &sc.APIID, &created); err != nil {
			return nil, err
		}
		sc.CreatedAt = fromMS(created)
		out = append(out, sc)
	}
	return out, rows.Err()
}

// DeleteScope removes a portal-wide scope from the registry (an API's
// scopes change with the API). Clients that were granted
// it keep it in their stored list but can no longer be saved with it.
func (s *Store) DeleteScope(ctx context.Context, name string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM oauth_scopes WHERE name = ? AND api_id IS NULL`, name)
	if err != nil {
		return fmt.Errorf("store: delete scope: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete scope %q: %w", name, ErrNotFound)
	}
	return nil
}

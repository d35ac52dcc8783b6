package store

import (
	"context"
	"fmt"
	"time"
)

// APIRoute attaches an "API request" policy to the requests the authorizer
// is asked about: those for API (any when empty; the registered API's
// identifier once APIs are registered), on Host (any when empty), whose
// path lies under PathPrefix.
type APIRoute struct {
	ID         string    `json:"id"`
	API        string    `json:"api,omitempty"`
	Host       string    `json:"host,omitempty"`
	PathPrefix string    `json:"path_prefix"`
	PolicyID   string    `json:"policy_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// AttachAPIRoute makes policyID the policy of (api, host, prefix),
// replacing any other, and returns the policy ID it replaced.
func (s *Store) AttachAPIRoute(ctx context.Context, r APIRoute) (string, error) {
	var before string
	err := s.InTx(ctx, func(tx *Store) error {
		err := tx.q.QueryRowContext(ctx, `SELECT policy_id FROM api_policy_routes WHERE api = ? AND host = ? AND path_prefix = ?`,
			r.API, r.Host, r.PathPrefix).Scan(&before)
		if err != nil && !errIsNoRows(err) {
			return fmt.Errorf("store: api route: %w", err)
		}
		_, err = tx.q.ExecContext(ctx, `INSERT INTO api_policy_routes (id, api, host, path_prefix, policy_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (api, host, path_prefix) DO UPDATE SET policy_id = excluded.policy_id,
			created_at = excluded.created_at`, NewID(), r.API, r.Host, r.PathPrefix, r.PolicyID, ms(tx.Now()))
		if err != nil {
			return fmt.Errorf("store: attach api route: %w", err)
		}
		return nil
	})
	return before, err
}

// DetachAPIRoute removes the policy of (api, host, prefix) and returns the
// one removed ("" when there was none).
//
// It runs in a transaction although it is one statement: a write with
// RETURNING outside one commits only when its row is read, after the data
// version was moved, and a cache filled in between would keep the route;
// a transaction moves the version after its commit.
func (s *Store) DetachAPIRoute(ctx context.Context, api, host, prefix string) (string, error) {
	var before string
	err := s.InTx(ctx, func(tx *Store) error {
		err := tx.q.QueryRowContext(ctx, `DELETE FROM api_policy_routes WHERE api = ? AND host = ? AND path_prefix = ?
			RETURNING policy_id`, api, host, prefix).Scan(&before)
		if errIsNoRows(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: detach api route: %w", err)
	}
	return before, nil
}

// APIRoutes lists every API route, or only those of policyID when it is
// not empty.
func (s *Store) APIRoutes(ctx context.Context, policyID string) ([]APIRoute, error) {
	q := `SELECT id, api, host, path_prefix, policy_id, created_at FROM api_policy_routes`
	var args []any
	if policyID != "" {
		q += ` WHERE policy_id = ?`
		args = append(args, policyID)
	}
	rows, err := s.q.QueryContext(ctx, q+` ORDER BY api, host, path_prefix`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: api routes: %w", err)
	}
	defer rows.Close()
	var out []APIRoute
	for rows.Next() {
		var r APIRoute
		var created int64
		if err := rows.Scan(&r.ID, &r.API, &r.Host, &r.PathPrefix, &r.PolicyID, &created); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMS(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"fmt"
)

// ShareClient shares an app of ownerOrgID with every other organization
// (planID "") or with the organizations on planID. Sharing twice is a no-op.
// Another organization's app is ErrNotFound.
func (s *Store) ShareClient(ctx context.Context, ownerOrgID, clientID, planID string) error {
	c, err := s.ClientByClientID(ctx, ownerOrgID, clientID)
	if err != nil {
		return err
	}
	_, err = s.q.ExecContext(ctx, `INSERT INTO client_shares (client_id, plan_id, created_at) VALUES (?, ?, ?)
		ON CONFLICT (client_id, plan_id) DO NOTHING`, c.ID, planID, ms(s.Now()))
	if err != nil {
		return fmt.Errorf("store: share client: %w", err)
	}
	return nil
}

// UnshareClient withdraws one share of an app of ownerOrgID.
func (s *Store) UnshareClient(ctx context.Context, ownerOrgID, clientID, planID string) error {
	c, err := s.ClientByClientID(ctx, ownerOrgID, clientID)
	if err != nil {
		return err
	}
	res, err := s.q.ExecContext(ctx, `DELETE FROM client_shares WHERE client_id = ? AND plan_id = ?`, c.ID, planID)
	if err != nil {
		return fmt.Errorf("store: unshare client: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: unshare client: %w", ErrNotFound)
	}
	return nil
}

// ClientShares lists the plan IDs an app of ownerOrgID is shared with; ""
// stands for every organization.
func (s *Store) ClientShares(ctx context.Context, ownerOrgID, clientID string) ([]string, error) {
	c, err := s.ClientByClientID(ctx, ownerOrgID, clientID)
	if err != nil {
		return nil, err
	}
	rows, err := s.q.QueryContext(ctx, `SELECT plan_id FROM client_shares WHERE client_id = ? ORDER BY plan_id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("store: client shares: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// sharedWhere selects apps of other organizations shared with orgID, whose
// plan is planID ("" for none).
const sharedWhere = `org_id <> ? AND id IN (SELECT client_id FROM client_shares WHERE plan_id = '' OR plan_id = ?)`

// SharedClients lists the apps other organizations share with orgID (on
// plan planID), by name. Their secrets are not loaded: a sharing
// organization's credentials are none of the viewer's business.
func (s *Store) SharedClients(ctx context.Context, orgID, planID string) ([]Client, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE `+sharedWhere+
		` ORDER BY name, client_id`, orgID, planID)
	if err != nil {
		return nil, fmt.Errorf("store: shared clients: %w", err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("store: shared clients: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SharedClient returns the app with the public clientID if another
// organization shares it with orgID (on plan planID); otherwise ErrNotFound.
func (s *Store) SharedClient(ctx context.Context, orgID, planID, clientID string) (Client, error) {
	c, err := scanClient(s.q.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM oauth_clients WHERE client_id = ? AND `+sharedWhere,
		clientID, orgID, planID))
	return c, notFoundOrNil("store: shared client", err)
}

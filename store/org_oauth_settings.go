package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// OrgAllowsClientMetadata reports whether organization orgID lets its users
// sign in to clients identified by a Client ID Metadata Document. It does
// unless its admin refused them.
func (s *Store) OrgAllowsClientMetadata(ctx context.Context, orgID string) (bool, error) {
	var allow int
	err := s.q.QueryRowContext(ctx, `SELECT allow_client_metadata FROM org_oauth_settings WHERE org_id = ?`, orgID).Scan(&allow)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: org oauth settings: %w", err)
	}
	return allow != 0, nil
}

// SetOrgAllowsClientMetadata records an organization's choice.
func (s *Store) SetOrgAllowsClientMetadata(ctx context.Context, orgID string, allow bool) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO org_oauth_settings (org_id, allow_client_metadata, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET allow_client_metadata = excluded.allow_client_metadata, updated_at = excluded.updated_at`,
		orgID, boolInt(allow), ms(s.Now()))
	if err != nil {
		return fmt.Errorf("store: set org oauth settings: %w", err)
	}
	return nil
}

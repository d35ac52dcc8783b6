package store

import (
	"context"
	"fmt"
	"time"
)

// RevokeUserRefreshFamilies revokes every live refresh-token family of a
// user of orgID, with the access tokens issued from them, for when the user
// is removed or loses their role.
func (s *Store) RevokeUserRefreshFamilies(ctx context.Context, orgID, userID, reason string, at time.Time) error {
	rows, err := s.q.QueryContext(ctx, `SELECT id FROM oauth_refresh_families
		WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL`, orgID, userID)
	if err != nil {
		return fmt.Errorf("store: user refresh families: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.RevokeRefreshFamily(ctx, id, reason, at); err != nil {
			return err
		}
	}
	return nil
}

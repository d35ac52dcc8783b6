package store

import (
	"context"
	"time"
)

// RevokeUserRefreshFamilies revokes every live refresh-token family of a
// user of orgID, with the access tokens issued from them, for when the user
// is removed or loses their role.
func (s *Store) RevokeUserRefreshFamilies(ctx context.Context, orgID, userID, reason string, at time.Time) error {
	return s.revokeLiveFamilies(ctx, "user refresh families", `org_id = ? AND user_id = ?`, []any{orgID, userID}, reason, at)
}

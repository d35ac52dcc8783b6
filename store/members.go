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

// RevokeAllUserRefreshFamilies revokes every live refresh-token family of
// userID whichever organization's app holds it (an app shared with the
// user's organization included), for when the password is reset or
// changed: whoever had the account keeps no app's access.
func (s *Store) RevokeAllUserRefreshFamilies(ctx context.Context, userID, reason string, at time.Time) error {
	return s.revokeLiveFamilies(ctx, "all user refresh families", `user_id = ?`, []any{userID}, reason, at)
}

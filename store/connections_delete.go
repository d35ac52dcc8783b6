package store

import (
	"context"
	"fmt"
)

// DeleteConnection removes a connection of orgID. Its linked identities
// go with it (ON DELETE CASCADE); the accounts they pointed at stay.
// Another organization's connection is ErrNotFound.
func (s *Store) DeleteConnection(ctx context.Context, orgID, id string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM connections WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete connection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete connection %s: %w", id, ErrNotFound)
	}
	return nil
}

// ConnectionImpact is what deleting a connection does to people: Linked
// accounts lose their link through it, and Stranded of those have no
// password and no link through another connection, so they cannot sign
// in until an admin sends them a reset link or another connection links
// them by verified email.
type ConnectionImpact struct {
	Linked   int
	Stranded int
}

// ConnectionImpact counts the accounts linked through connection id of
// orgID.
func (s *Store) ConnectionImpact(ctx context.Context, orgID, id string) (ConnectionImpact, error) {
	var out ConnectionImpact
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN (u.password_hash IS NULL OR u.password_hash = '')
			AND NOT EXISTS (SELECT 1 FROM identities o WHERE o.user_id = u.id AND o.connection_id <> i.connection_id)
			THEN 1 ELSE 0 END), 0)
		FROM identities i JOIN users u ON u.id = i.user_id
		WHERE i.org_id = ? AND i.connection_id = ? AND u.org_id = ?`, orgID, id, orgID).Scan(&out.Linked, &out.Stranded)
	if err != nil {
		return out, fmt.Errorf("store: connection impact: %w", err)
	}
	return out, nil
}

// UnlinkedPasswordUsers counts the accounts of orgID that sign in with a
// password and are linked to no connection: those a new connection
// affects.
func (s *Store) UnlinkedPasswordUsers(ctx context.Context, orgID string) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users u
		WHERE u.org_id = ? AND u.password_hash IS NOT NULL AND u.password_hash <> ''
		AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id)`, orgID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: unlinked password users: %w", err)
	}
	return n, nil
}

// UserLinked reports whether a connection has linked userID of orgID.
func (s *Store) UserLinked(ctx context.Context, orgID, userID string) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM identities WHERE org_id = ? AND user_id = ?`, orgID, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: user linked: %w", err)
	}
	return n > 0, nil
}

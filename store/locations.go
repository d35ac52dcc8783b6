package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// MaxLocations is how many networks a user's remembered locations hold.
const MaxLocations = 5

// Location is a network a user is known to come from.
type Location struct {
	Network    netip.Prefix
	Country    string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Locations returns the user's remembered locations, most recently used
// first.
func (s *Store) Locations(ctx context.Context, userID string) ([]Location, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT network, country, created_at, last_used_at FROM user_locations
		WHERE user_id = ? ORDER BY last_used_at DESC, network`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: locations: %w", err)
	}
	defer rows.Close()
	var out []Location
	for rows.Next() {
		var l Location
		var network string
		var created, used int64
		if err := rows.Scan(&network, &l.Country, &created, &used); err != nil {
			return nil, err
		}
		if l.Network, err = netip.ParsePrefix(network); err != nil {
			return nil, fmt.Errorf("store: location %q: %w", network, err)
		}
		l.CreatedAt, l.LastUsedAt = fromMS(created), fromMS(used)
		out = append(out, l)
	}
	return out, rows.Err()
}

// RememberLocation records that the user used network at now: a known
// network is refreshed, a new one is added, and beyond MaxLocations the least
// recently used ones are dropped, all in one transaction.
func (s *Store) RememberLocation(ctx context.Context, userID string, network netip.Prefix, country string, now time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO user_locations (user_id, network, country, created_at, last_used_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, network) DO UPDATE SET last_used_at = excluded.last_used_at, country = excluded.country`,
			userID, network.Masked().String(), country, ms(now), ms(now))
		if err != nil {
			return fmt.Errorf("store: remember location: %w", err)
		}
		_, err = tx.q.ExecContext(ctx, `DELETE FROM user_locations WHERE user_id = ? AND network NOT IN (
			SELECT network FROM user_locations WHERE user_id = ? ORDER BY last_used_at DESC, created_at DESC LIMIT ?)`,
			userID, userID, MaxLocations)
		if err != nil {
			return fmt.Errorf("store: trim locations: %w", err)
		}
		return nil
	})
}

// TouchLocation marks a remembered network as used at now; an unknown
// network is left unknown (only step-up adds networks).
func (s *Store) TouchLocation(ctx context.Context, userID string, network netip.Prefix, now time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE user_locations SET last_used_at = ? WHERE user_id = ? AND network = ?`,
		ms(now), userID, network.Masked().String())
	return err
}

// ForgetLocation removes one of the user's remembered networks.
func (s *Store) ForgetLocation(ctx context.Context, userID string, network netip.Prefix) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM user_locations WHERE user_id = ? AND network = ?`,
		userID, network.Masked().String())
	if err != nil {
		return fmt.Errorf("store: forget location: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: forget location: %w", ErrNotFound)
	}
	return nil
}

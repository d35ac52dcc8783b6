package store

import (
	"context"
	"fmt"
	"time"
)

// PutReveal holds a sealed value for one browser session until TakeReveal
// or expires, and returns its id. Holds expired at now are swept on the way.
func (s *Store) PutReveal(ctx context.Context, sessionID string, sealed []byte, now, expires time.Time) (string, error) {
	id := NewID()
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM one_time_reveals WHERE expires_at <= ?`, ms(now)); err != nil {
			return err
		}
		_, err := tx.q.ExecContext(ctx, `INSERT INTO one_time_reveals (id, session_id, sealed, expires_at) VALUES (?, ?, ?, ?)`,
			id, sessionID, sealed, ms(expires))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: put reveal: %w", err)
	}
	return id, nil
}

// TakeReveal returns a held value and removes it, so it is given out once:
// of two concurrent takes only the one whose DELETE removed the row gets
// it. Another session's id, an expired one or a second take is ErrNotFound.
func (s *Store) TakeReveal(ctx context.Context, id, sessionID string, now time.Time) ([]byte, error) {
	var sealed []byte
	err := s.InTx(ctx, func(tx *Store) error {
		err := tx.q.QueryRowContext(ctx, `SELECT sealed FROM one_time_reveals WHERE id = ? AND session_id = ? AND expires_at > ?`,
			id, sessionID, ms(now)).Scan(&sealed)
		if err != nil {
			return notFoundOrNil("store: reveal", err)
		}
		res, err := tx.q.ExecContext(ctx, `DELETE FROM one_time_reveals WHERE id = ? AND session_id = ?`, id, sessionID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sealed, nil
}

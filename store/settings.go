package store

import (
	"context"
	"fmt"
)

// Setting returns the value stored under key, or ErrNotFound.
func (s *Store) Setting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err != nil {
		return nil, notFound("store: setting "+key, err)
	}
	return v, nil
}

// EnsureSetting returns the value under key, first storing gen() there if
// there is none. Two processes racing on first run agree on one value.
func (s *Store) EnsureSetting(ctx context.Context, key string, gen func() ([]byte, error)) ([]byte, error) {
	if v, err := s.Setting(ctx, key); err == nil {
		return v, nil
	}
	v, err := gen()
	if err != nil {
		return nil, err
	}
	if _, err := s.q.ExecContext(ctx,
		`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, v); err != nil {
		return nil, fmt.Errorf("store: setting %s: %w", key, err)
	}
	return s.Setting(ctx, key)
}

// PutSetting stores value under key, replacing any previous value.
func (s *Store) PutSetting(ctx context.Context, key string, value []byte) error {
	_, err := s.q.ExecContext(ctx,
		`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		key, value)
	if err != nil {
		return fmt.Errorf("store: put setting %s: %w", key, err)
	}
	return nil
}

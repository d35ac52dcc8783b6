package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// SealedSetting returns the size-byte secret kept sealed under key,
// generating and sealing one on first run. A value stored before secrets
// were sealed (exactly size bytes: a sealed value is always longer) is
// sealed in place on this read, by a conditional update, so an upgrade
// keeps the secret and signs nobody out.
func (s *Store) SealedSetting(ctx context.Context, sealer *Sealer, key string, size int) ([]byte, error) {
	stored, err := s.EnsureSetting(ctx, key, func() ([]byte, error) {
		k := make([]byte, size)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		return sealer.Seal(k, key), nil
	})
	if err != nil {
		return nil, err
	}
	if len(stored) == size { // unsealed, from before
		sealed := sealer.Seal(stored, key)
		if _, err := s.q.ExecContext(ctx, `UPDATE settings SET value = ? WHERE key = ? AND value = ?`,
			sealed, key, stored); err != nil {
			return nil, fmt.Errorf("store: seal setting %s: %w", key, err)
		}
		// Another process may have sealed it first: read what is stored now.
		if stored, err = s.Setting(ctx, key); err != nil {
			return nil, err
		}
	}
	v, err := sealer.Open(stored, key)
	if err != nil {
		return nil, fmt.Errorf("store: setting %s: %w", key, err)
	}
	if len(v) != size {
		return nil, fmt.Errorf("store: setting %s holds %d bytes, want %d", key, len(v), size)
	}
	return v, nil
}

package store

import (
	"context"
	"fmt"
)

// WALLimit is the size SQLite truncates the write-ahead log back to after
// a checkpoint (PRAGMA journal_size_limit). Without it the WAL keeps the
// size of its largest burst forever.
const WALLimit = 64 << 20

// WALStats is what a checkpoint did, in WAL frames (pages).
type WALStats struct {
	Busy         bool // a reader or writer kept the checkpoint from finishing
	Frames       int  // frames in the WAL before
	Checkpointed int  // frames copied into the database
}

// CheckpointWAL copies the write-ahead log into the database and truncates
// it to zero bytes (PRAGMA wal_checkpoint(TRUNCATE)), on one connection of
// the pool that also gets journal_size_limit. Housekeeping calls it, so the
// WAL stays bounded even when steady readers keep SQLite's automatic
// checkpoints from ever reaching the end of the log. It runs on the writer
// connection (the readers are query_only). On PostgreSQL, which has no WAL to
// manage from here, it does nothing.
func (s *Store) CheckpointWAL(ctx context.Context) (WALStats, error) {
	var st WALStats
	if s.e.pg {
		return st, nil
	}
	conn, err := s.e.wdb.Conn(ctx)
	if err != nil {
		return st, fmt.Errorf("store: checkpoint: %w", err)
	}
	defer conn.Close()
	var limit int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("PRAGMA journal_size_limit = %d", WALLimit)).Scan(&limit); err != nil {
		return st, fmt.Errorf("store: journal_size_limit: %w", err)
	}
	var busy int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &st.Frames, &st.Checkpointed); err != nil {
		return st, fmt.Errorf("store: checkpoint: %w", err)
	}
	st.Busy = busy != 0
	return st, nil
}

// TuneForBulkLoad gives SQLite's one writer connection a 1 GiB page cache and
// turns off syncing at commit, for a loader that writes millions of rows and
// can start over after a crash (`portico bench seed`): inserts into indexes of
// millions of rows otherwise re-read their pages from the file. It lasts as
// long as the store is open; never call it in a portal. PostgreSQL: nothing.
func (s *Store) TuneForBulkLoad(ctx context.Context) error {
	if s.e.pg {
		return nil
	}
	for _, p := range []string{"PRAGMA cache_size = -1048576", "PRAGMA synchronous = OFF"} {
		if _, err := s.e.wdb.ExecContext(ctx, p); err != nil {
			return fmt.Errorf("store: bulk load: %w", err)
		}
	}
	return nil
}

package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Callers test them with errors.Is; the store wraps them with
// the operation that failed.
var (
	ErrNotFound      = errors.New("store: not found")
	ErrAlreadyExists = errors.New("store: already exists")
	ErrConflict      = errors.New("store: conflicting update")
	// ErrDomainTaken is the ErrAlreadyExists of an email domain that belongs
	// to another organization, so callers can say which field clashed.
	ErrDomainTaken = fmt.Errorf("store: domain belongs to another organization: %w", ErrAlreadyExists)
)

// querier is what both *sql.DB and *sql.Tx offer, so every method runs the
// same way inside and outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is the handle on one Portico database. The zero value is not usable;
// call Open.
type Store struct {
	db   *sql.DB
	q    querier
	inTx bool
	// Now is the clock used for created/updated stamps; tests replace it.
	Now func() time.Time

	watch *watcher
}

// Open opens (creating if needed) the SQLite database at path and applies
// every pending migration.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{db: db, q: db, Now: time.Now, watch: &watcher{db: db}}
	return s, nil
}

// Close releases the database.
func (s *Store) Close() error {
	s.watch.close()
	return s.db.Close()
}

// DB exposes the pool for the few callers (health checks, benchmarks) that
// need it directly.
func (s *Store) DB() *sql.DB { return s.db }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// InTx runs fn with a Store bound to one transaction: everything fn does
// commits together or not at all. A change and its audit event are written
// this way. Nested calls join the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := *s
	t.q, t.inTx = tx, true
	if err := fn(&t); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// NewID returns a random 26-character identifier (128 bits, base32).
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// ms converts a time to the stored representation: Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored time back, in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// nullMS stores an optional time; the zero time is NULL.
func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromNullMS reads an optional time; NULL is the zero time.
func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// isUniqueViolation reports a UNIQUE or PRIMARY KEY constraint failure, by
// SQLite's extended result code.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// notFound turns sql.ErrNoRows into ErrNotFound, wrapped with op.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// watcher answers "has anything been committed since I last asked?" with
// SQLite's PRAGMA data_version on one dedicated connection: the value changes
// whenever another connection (in this process or another, such as the CLI)
// commits, which makes revalidating caches nearly free.
type watcher struct {
	db   *sql.DB
	mu   sync.Mutex
	conn *sql.Conn
}

func (w *watcher) version(ctx context.Context) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn == nil {
		c, err := w.db.Conn(ctx)
		if err != nil {
			return 0, err
		}
		w.conn = c
	}
	var v int64
	if err := w.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		w.conn.Close()
		w.conn = nil
		return 0, err
	}
	return v, nil
}

func (w *watcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// DataVersion returns a number that changes whenever any connection other
// than the watcher's own has committed a write. Caches compare it with the
// value they were filled at and reload on a difference.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	return s.watch.version(ctx)
}

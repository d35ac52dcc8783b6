package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
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

// querier is what every method runs its SQL through, inside a transaction or
// not. The store's SQL is written once with ? placeholders; the querier
// rebinds it for the engine and routes it (see engine.go).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is the handle on one Portico database. The zero value is not usable;
// call Open.
type Store struct {
	e    *engine
	q    querier
	inTx bool
	// Now is the clock used for created/updated stamps; tests replace it.
	Now func() time.Time
}

// IsPostgres reports whether dsn names a PostgreSQL server rather than a
// SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn and applies every pending migration:
// a postgres:// or postgresql:// URL is a PostgreSQL server, anything else
// the path of a SQLite file (created if needed).
func Open(ctx context.Context, dsn string) (*Store, error) {
	var e *engine
	var err error
	if IsPostgres(dsn) {
		e, err = openPostgres(ctx, dsn)
	} else {
		e, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	return &Store{e: e, q: e.pool, Now: time.Now}, nil
}

// sqlitePoolSize is how many reader connections a SQLite store keeps open and
// warm: opening one re-runs the PRAGMAs and re-parses the schema, which under
// load cost a fifth of the CPU when database/sql kept only two idle.
func sqlitePoolSize() int {
	return max(4, 2*runtime.GOMAXPROCS(0))
}

func openSQLite(ctx context.Context, path string) (*engine, error) {
	base := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		fmt.Sprintf("&_pragma=journal_size_limit(%d)", WALLimit)
	if legacySQLitePool {
		return openSQLiteLegacy(ctx, path, base)
	}
	// Writers are serialized in Go on one connection instead of queueing in
	// SQLite's busy handler, which sleeps; readers never block on it (WAL).
	wdb, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		if hint := readOnlyHint(path); hint != "" {
			return nil, fmt.Errorf("store: open %s: %s: %w", path, hint, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := migrate(ctx, wdb, false); err != nil {
		wdb.Close()
		return nil, err
	}
	rdb, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := sqlitePoolSize()
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	rdb.SetConnMaxIdleTime(0)
	rdb.SetConnMaxLifetime(0)
	e := newEngine(false, rdb, wdb)
	w, err := newSQLiteWatcher(ctx, e)
	if err != nil {
		rdb.Close()
		wdb.Close()
		return nil, err
	}
	e.watch = w
	return e, nil
}

// legacySQLitePool opens SQLite as before the writer/reader split: one
// default database/sql pool for everything, immediate transactions queueing in
// SQLite's busy handler, nothing prepared. Only the benchmarks set it, to
// compare (go test -bench . ./store/).
var legacySQLitePool bool

func openSQLiteLegacy(ctx context.Context, path, base string) (*engine, error) {
	db, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := migrate(ctx, db, false); err != nil {
		db.Close()
		return nil, err
	}
	e := newEngine(false, db, db)
	e.noPrepare = true
	e.watch = &sqliteConnWatcher{db: db}
	return e, nil
}

// Close releases the database.
func (s *Store) Close() error { return s.e.close() }

// DB exposes the pool for the few callers (health checks, benchmarks) that
// need it directly. On SQLite it is the read-only pool.
func (s *Store) DB() *sql.DB { return s.e.rdb }

// Pools names the connection pools for metrics: one on PostgreSQL, a
// read pool and a single-writer pool on SQLite.
func (s *Store) Pools() map[string]*sql.DB {
	if s.e.pg {
		return map[string]*sql.DB{"postgres": s.e.rdb}
	}
	return map[string]*sql.DB{"sqlite_read": s.e.rdb, "sqlite_write": s.e.wdb}
}

// Postgres reports whether the store runs on PostgreSQL.
func (s *Store) Postgres() bool { return s.e.pg }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.e.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// InTx runs fn with a Store bound to one transaction: everything fn does
// commits together or not at all. A change and its audit event are written
// this way. Nested calls join the outer transaction.
//
// On SQLite the transaction takes the one writer connection and begins
// IMMEDIATE, so transactions are serialized. On PostgreSQL it is READ
// COMMITTED: a read that decides a write inside fn must lock its row (the
// getters do, through forUpdate) or the write must be conditional.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	tx, err := s.e.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := *s
	tq := &txQuerier{e: s.e, tx: tx}
	t.q, t.inTx = tq, true
	if err := fn(&t); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if tq.config {
		s.e.wrote()
	}
	tq.prepareMissed(ctx)
	return nil
}

// forUpdate is " FOR UPDATE" for a single-row read inside a transaction on
// PostgreSQL, so that a read-modify-write holds across replicas as it does on
// SQLite, where a transaction already owns the only writer. Empty otherwise.
func (s *Store) forUpdate() string {
	if s.inTx && s.e.pg {
		return " FOR UPDATE"
	}
	return ""
}

// Lock takes a lock named name until the end of the transaction s is bound
// to (PostgreSQL: pg_advisory_xact_lock): work that every replica may start
// at once, such as creating the first signing key, runs once at a time. On
// SQLite, or outside a transaction, it does nothing: there a transaction is
// already exclusive.
func (s *Store) Lock(ctx context.Context, name string) error {
	if !s.inTx || !s.e.pg {
		return nil
	}
	_, err := s.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`, "portico:"+name)
	if err != nil {
		return fmt.Errorf("store: lock %s: %w", name, err)
	}
	return nil
}

// TryLock runs fn in a transaction holding the lock named name, unless
// another transaction (on any replica) holds it: then it returns false at
// once without running fn. Housekeeping uses it so that N replicas do not
// purge the same rows N times. On SQLite it always runs fn.
func (s *Store) TryLock(ctx context.Context, name string, fn func(tx *Store) error) (bool, error) {
	ran := false
	err := s.InTx(ctx, func(tx *Store) error {
		if tx.e.pg {
			var got bool
			if err := tx.q.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtext(?))`, "portico:"+name).Scan(&got); err != nil {
				return fmt.Errorf("store: try lock %s: %w", name, err)
			}
			if !got {
				return nil
			}
		}
		ran = true
		return fn(tx)
	})
	return ran, err
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

// isUniqueViolation reports a UNIQUE or PRIMARY KEY constraint failure:
// SQLite's extended result codes, PostgreSQL's SQLSTATE 23505.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
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

// DataVersion returns a number that changes whenever a table that caches read
// (notifyingTables) has been committed to since: by this process, at once
// (before the writing call returns), or by another replica or the CLI, within
// a few milliseconds. Caches compare it with the value they were filled at
// and reload on a difference; they read it before reading what they cache.
// It costs an atomic load on both engines.
//
// This process's own commits to those tables count themselves (engine.wrote);
// its writes to other tables (the decision log, tokens, sessions' activity)
// do not move it. Other writers: on PostgreSQL a counter bumped by every
// notification on the portico_changes channel, which triggers on the
// configuration tables raise at commit (see postgres.go); on SQLite the
// writer connection's PRAGMA data_version, polled in the background (see
// sqliteWatcher), which moves on any commit by another connection.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	v, err := s.e.watch.version(ctx)
	if err != nil {
		return 0, err
	}
	return v + s.e.local.Load(), nil
}

// versioner is the engine-specific half of DataVersion.
type versioner interface {
	version(ctx context.Context) (int64, error)
	close()
}

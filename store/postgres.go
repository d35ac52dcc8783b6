package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// changesChannel is the channel that the triggers of migrations/postgres
// notify (at commit, once per transaction) when a table that caches read
// changes.
const changesChannel = "portico_changes"

// postgresPoolSize caps the connections one replica opens; several replicas
// share the server's max_connections (100 by default).
const postgresPoolSize = 20

func openPostgres(ctx context.Context, dsn string) (*engine, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(postgresPoolSize)
	db.SetMaxIdleConns(postgresPoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", redact(cfg), err)
	}
	if err := migrate(ctx, db, true); err != nil {
		db.Close()
		return nil, err
	}
	e := newEngine(true, db, db)
	w := &pgWatcher{cfg: cfg.Copy()}
	if err := w.start(ctx); err != nil {
		db.Close()
		return nil, err
	}
	e.watch = w
	return e, nil
}

func redact(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// pgWatcher keeps one LISTEN connection and counts notifications. A lost
// connection counts too (it may have missed some), and so does every
// reconnection, so a cache never trusts a version across a gap.
type pgWatcher struct {
	cfg     *pgx.ConnConfig
	n       atomic.Int64
	cancel  context.CancelFunc
	done    chan struct{}
	down    atomic.Bool
	mu      sync.Mutex
	lastErr error
}

func (w *pgWatcher) start(ctx context.Context) error {
	// The first connection is made here so that a bad URL fails Open.
	conn, err := w.listen(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go w.run(bg, conn)
	return nil
}

func (w *pgWatcher) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, w.cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	w.n.Add(1)
	return conn, nil
}

func (w *pgWatcher) run(ctx context.Context, conn *pgx.Conn) {
	defer close(w.done)
	backoff := 50 * time.Millisecond
	for {
		for conn != nil {
			_, err := conn.WaitForNotification(ctx)
			if err != nil {
				conn.Close(context.Background())
				conn = nil
				w.n.Add(1)
				if ctx.Err() != nil {
					return
				}
				w.setErr(err)
				break
			}
			w.n.Add(1)
			backoff = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
		c, err := w.listen(ctx)
		if err != nil {
			w.setErr(err)
			continue
		}
		w.setErr(nil)
		conn = c
	}
}

func (w *pgWatcher) setErr(err error) {
	w.mu.Lock()
	w.lastErr = err
	w.mu.Unlock()
	w.down.Store(err != nil)
}

// version is the notification count. While the listening connection is down
// the count still moves on every retry, so caches keep revalidating rather
// than serving what may be stale.
func (w *pgWatcher) version(context.Context) (int64, error) {
	if w.down.Load() {
		return w.n.Add(1), nil
	}
	return w.n.Load(), nil
}

func (w *pgWatcher) close() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
}

// sqliteWatcher sees the commits of other connections — the CLI, another
// portal on the same file — through PRAGMA data_version asked on the writer
// connection: SQLite changes that value only for commits made by some other
// connection, and every commit of this process goes through the writer, so
// this process's own writes to the log and token tables do not move the
// version (engine.wrote counts those to configuration tables). A goroutine
// asks every pollEvery, so DataVersion is an atomic load and no request
// waits on the writer to learn it; a commit elsewhere is seen within about
// pollEvery, or as soon as the writer is free after a long transaction of
// this process (during which no other connection can commit anyway).
type sqliteWatcher struct {
	e      *engine
	n      atomic.Int64
	last   int64
	conn   any // the writer's driver connection that last answered
	cancel context.CancelFunc
	done   chan struct{}
	down   atomic.Bool
}

// pollEvery is how often the SQLite watcher asks the writer connection for
// its data_version.
const pollEvery = 10 * time.Millisecond

func newSQLiteWatcher(ctx context.Context, e *engine) (*sqliteWatcher, error) {
	w := &sqliteWatcher{e: e}
	if err := w.poll(ctx); err != nil {
		return nil, fmt.Errorf("store: data version: %w", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go w.run(bg)
	return w, nil
}

func (w *sqliteWatcher) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.poll(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			w.n.Add(1)
			w.down.Store(true)
			continue
		}
		w.down.Store(false)
	}
}

// poll reads the writer's data_version and counts a change. A different
// driver connection (the writer was reopened after an error) counts too: its
// data_version is not comparable with the old one's.
func (w *sqliteWatcher) poll(ctx context.Context) error {
	conn, err := w.e.wdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Holding the writer, any write whose rows were open when it asked to
	// settle has committed by now.
	if w.e.settle.Swap(false) {
		w.e.local.Add(1)
	}
	var dc any
	if err := conn.Raw(func(c any) error { dc = c; return nil }); err != nil {
		return err
	}
	var v int64
	if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return err
	}
	if dc != w.conn || v != w.last {
		w.conn, w.last = dc, v
		w.n.Add(1)
	}
	return nil
}

// version is the count of changes seen. While the writer does not answer the
// count moves on every call, so caches keep revalidating rather than serve
// what may be stale (as pgWatcher does while its connection is down).
func (w *sqliteWatcher) version(context.Context) (int64, error) {
	if w.down.Load() {
		return w.n.Add(1), nil
	}
	return w.n.Load(), nil
}

func (w *sqliteWatcher) close() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
}

// sqliteConnWatcher is the watcher of the legacy single-pool mode: PRAGMA
// data_version on one dedicated pool connection, which moves on every commit
// by any other connection, this process's included.
type sqliteConnWatcher struct {
	db   *sql.DB
	mu   sync.Mutex
	conn *sql.Conn
}

func (w *sqliteConnWatcher) version(ctx context.Context) (int64, error) {
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

func (w *sqliteConnWatcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// RedactDSN returns dsn fit for a log line: a PostgreSQL URL without its
// password; a file path unchanged.
func RedactDSN(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}

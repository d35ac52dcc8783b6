package store

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// engine is what a Store shares with every transaction-bound copy of it: the
// pools, the dialect and the per-query caches.
type engine struct {
	pg bool
	// rdb runs plain reads; wdb runs writes and transactions. On SQLite they
	// are two pools on the same file (readers query_only; one writer
	// connection, so writers queue in Go rather than in SQLite's sleeping
	// busy handler); on PostgreSQL they are the same pool.
	rdb, wdb *sql.DB
	pool     *poolQuerier
	// noPrepare runs every statement unprepared (the legacy SQLite mode the
	// benchmarks compare against).
	noPrepare bool

	// queries caches, per query text, what running it needs: the text for
	// this engine and, on SQLite, the statement prepared once (database/sql
	// prepares it again on each connection that first runs it).
	queries sync.Map // string -> *query
	nq      atomic.Int64

	// local grows with every commit this process makes to a table that
	// caches read; see DataVersion.
	local atomic.Int64
	// settle asks for one more increment of the version once the writer
	// is free again: a write through Query/QueryRow commits only when its
	// rows are closed, after the call returns (see poolQuerier).
	settle atomic.Bool
	watch  versioner
}

// maxCachedQueries bounds the query cache: the store builds some queries from
// filters, but only a few dozen shapes, so the bound is never reached in use.
const maxCachedQueries = 2000

type query struct {
	text  string // rebound for the engine
	write bool   // INSERT/UPDATE/DELETE, possibly with RETURNING: needs the writer
	// config: the statement writes a table that caches read (one with a
	// portico_changes trigger on PostgreSQL), so committing it moves the
	// data version.
	config bool
	// SQLite: the statement prepared on the readers and on the writer.
	mu     sync.Mutex
	r, w   atomic.Pointer[sql.Stmt]
	failed bool // preparing failed once: run unprepared from then on
}

func newEngine(pg bool, rdb, wdb *sql.DB) *engine {
	e := &engine{pg: pg, rdb: rdb, wdb: wdb}
	e.pool = &poolQuerier{e: e}
	return e
}

func (e *engine) close() error {
	if e.watch != nil {
		e.watch.close()
	}
	e.queries.Range(func(_, v any) bool {
		q := v.(*query)
		for _, st := range []*sql.Stmt{q.r.Load(), q.w.Load()} {
			if st != nil {
				st.Close()
			}
		}
		return true
	})
	err := e.rdb.Close()
	if e.wdb != e.rdb {
		if err2 := e.wdb.Close(); err == nil {
			err = err2
		}
	}
	return err
}

// greatest is the two-argument maximum: SQLite's scalar MAX, PostgreSQL's
// GREATEST.
func (e *engine) greatest() string {
	if e.pg {
		return "GREATEST"
	}
	return "MAX"
}

// wrote notes a commit by this process to a table that caches read, so that
// this process's own caches see it at once: on PostgreSQL rather than when
// the notification comes back from the server; on SQLite because the watcher
// only sees other connections' commits (see sqliteWatcher). Writes to other
// tables (decisions, tokens, sessions' activity) leave the version alone.
func (e *engine) wrote() {
	e.local.Add(1)
}

// notifyingTables are the tables whose PostgreSQL migrations add the
// portico_changes trigger: configuration that caches read, not the
// high-volume logs and tokens. A new cached table needs both.
//
// The session tables are there because the signed-in principal is cached
// (handlers' principal cache): ending, rotating or stepping up a session,
// forgetting a location or requiring a password change must reach every
// replica at once. Their activity stamps are not (quietColumns).
var notifyingTables = map[string]bool{
	"settings": true, "plans": true, "organizations": true, "org_domains": true, "users": true,
	"oauth_scopes": true, "oauth_clients": true, "oauth_client_secrets": true, "oauth_signing_keys": true,
	"oauth_revoked_jtis": true, "oauth_registration_tokens": true, "connections": true,
	"org_connection_types": true, "policies": true, "policy_versions": true, "policy_attachments": true,
	"client_shares": true, "oauth_client_auth_failures": true, "oauth_apis": true, "api_policy_routes": true,
	"sessions": true, "session_auth": true, "user_locations": true, "password_change_required": true,
}

// quietColumns are, per notifying table, the columns an UPDATE may set
// without moving the data version: a session's once-a-minute activity touch
// and a remembered location's last use happen on every request or launch,
// and would otherwise empty every cache. Caches keep those values
// themselves. The PostgreSQL triggers of these tables fire only on UPDATE OF
// the other columns (migrations 01100, 01102).
//
// A client-authentication failure is counted on every failed attempt, by
// anyone, without credentials: were the count to move the version, anyone
// could keep every cache of every replica cold. Caches read only the running
// blocks of that table (blocked_until), so counting is quiet and placing a
// block is not.
var quietColumns = map[string]map[string]bool{
	"sessions":                   {"last_seen_at": true, "expires_at": true},
	"user_locations":             {"last_used_at": true},
	"oauth_client_auth_failures": {"failures": true, "window_start": true, "expires_at": true},
}

// quietInserts names, per table, the column that makes a new row invisible
// to caches when it is inserted as the literal 0: an INSERT of one such row,
// whose ON CONFLICT DO UPDATE SET list (if any) assigns only quiet columns,
// leaves the version alone. The PostgreSQL INSERT trigger of the table fires
// only WHEN that column is not 0 (migration 01102).
var quietInserts = map[string]string{
	"oauth_client_auth_failures": "blocked_until",
}

// notifies reports whether statement q, which writes table, moves the data
// version: any write to a notifying table except an UPDATE that sets only
// quiet columns, or an INSERT quietInserts allows. What it cannot parse
// notifies.
func notifies(q, table string) bool {
	if !notifyingTables[table] {
		return false
	}
	quiet := quietColumns[table]
	if quiet == nil {
		return true
	}
	var cols []string
	var ok bool
	if f := strings.Fields(q); len(f) > 0 && strings.EqualFold(f[0], "INSERT") {
		col := quietInserts[table]
		if col == "" {
			return true
		}
		cols, ok = quietInsertColumns(f, col)
	} else {
		cols, ok = setColumns(q)
	}
	if !ok {
		return true
	}
	for _, c := range cols {
		if !quiet[c] {
			return true
		}
	}
	return false
}

// quietInsertColumns reads INSERT INTO t (cols) VALUES (one row) [ON CONFLICT
// … DO NOTHING | DO UPDATE SET …] [RETURNING …], given as fields f: false
// unless the row sets column zero to the literal 0; otherwise the columns the
// DO UPDATE SET list assigns (none without one).
func quietInsertColumns(f []string, zero string) ([]string, bool) {
	s := strings.Join(f, " ")
	u := strings.ToUpper(s)
	if len(u) != len(s) || strings.ContainsAny(s, `'"`) {
		return nil, false
	}
	names, rest, ok := parenList(s, len("INSERT INTO "))
	if !ok || !strings.HasPrefix(u, "INSERT INTO ") {
		return nil, false
	}
	off := len(s) - len(rest)
	if !strings.HasPrefix(u[off:], " VALUES ") {
		return nil, false
	}
	values, rest, ok := parenList(s, off+len(" VALUES "))
	if !ok || len(values) != len(names) {
		return nil, false
	}
	i := slices.Index(names, zero)
	if i < 0 || values[i] != "0" {
		return nil, false
	}
	ur := strings.ToUpper(rest)
	switch {
	case rest == "" || strings.HasPrefix(ur, " RETURNING "):
		return nil, true
	case !strings.HasPrefix(ur, " ON CONFLICT "):
		return nil, false
	}
	if j := strings.Index(ur, " DO UPDATE SET "); j >= 0 {
		return setColumns("UPDATE t SET " + rest[j+len(" DO UPDATE SET "):])
	}
	if j := strings.Index(ur, " DO NOTHING"); j >= 0 {
		tail := ur[j+len(" DO NOTHING"):]
		return nil, tail == "" || strings.HasPrefix(tail, " RETURNING ")
	}
	return nil, false
}

// parenList reads, in s from the first non-space at or after from, a table
// name (skipped) or nothing, then one parenthesised comma list without nested
// lists of its own at the top level split: its trimmed, lower-cased items and
// the rest of s after the closing parenthesis.
func parenList(s string, from int) ([]string, string, bool) {
	open := strings.IndexByte(s[from:], '(')
	if open < 0 {
		return nil, "", false
	}
	if pre := strings.TrimSpace(s[from : from+open]); strings.ContainsAny(pre, " ,") {
		return nil, "", false
	}
	var items []string
	depth, start := 0, from+open+1
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
				continue
			}
			items = append(items, strings.ToLower(strings.TrimSpace(s[start:i])))
			return items, s[i+1:], true
		case ',':
			if depth == 0 {
				items = append(items, strings.ToLower(strings.TrimSpace(s[start:i])))
				start = i + 1
			}
		}
	}
	return nil, "", false
}

// setColumns returns the columns an UPDATE statement's SET list assigns;
// false when q is not a plain UPDATE … SET … it can read.
func setColumns(q string) ([]string, bool) {
	f := strings.Fields(q)
	if len(f) < 4 || !strings.EqualFold(f[0], "UPDATE") || !strings.EqualFold(f[2], "SET") {
		return nil, false
	}
	rest := strings.Join(f[3:], " ")
	var cols []string
	depth, start := 0, 0
	for i := 0; i <= len(rest); i++ {
		end := i == len(rest)
		if !end {
			switch rest[i] {
			case '(':
				depth++
				continue
			case ')':
				depth--
				continue
			case '\'', '"':
				return nil, false
			}
		}
		if depth == 0 && !end {
			w := strings.ToUpper(rest[i:min(len(rest), i+11)])
			if strings.HasPrefix(w, " WHERE ") || strings.HasPrefix(w, " FROM ") || strings.HasPrefix(w, " RETURNING ") {
				end = true
			}
		}
		if end || (depth == 0 && rest[i] == ',') {
			part := rest[start:i]
			eq := strings.IndexByte(part, '=')
			if eq < 0 {
				return nil, false
			}
			col := strings.ToLower(strings.TrimSpace(part[:eq]))
			if col == "" || strings.ContainsAny(col, " ()") {
				return nil, false
			}
			cols = append(cols, col)
			start = i + 1
			if end {
				return cols, true
			}
		}
	}
	return cols, true
}

// writtenTable is the table an INSERT, UPDATE or DELETE writes.
func writtenTable(q string) string {
	f := strings.Fields(q)
	for i := 0; i+1 < len(f); i++ {
		switch strings.ToUpper(f[i]) {
		case "INTO", "UPDATE", "FROM":
			return strings.ToLower(strings.Trim(f[i+1], `"(`))
		}
	}
	return ""
}

// lookup returns the cached form of q, making it on first use.
func (e *engine) lookup(q string) *query {
	if v, ok := e.queries.Load(q); ok {
		return v.(*query)
	}
	c := &query{text: q, write: isWrite(q)}
	if e.pg {
		c.text = rebind(q)
	}
	c.config = c.write && notifies(q, writtenTable(q))
	if e.nq.Load() >= maxCachedQueries {
		return c
	}
	v, loaded := e.queries.LoadOrStore(q, c)
	if !loaded {
		e.nq.Add(1)
	}
	return v.(*query)
}

// prepared returns the statement for c on SQLite, prepared once on the
// writer or the readers; nil on PostgreSQL, where pgx already caches prepared
// statements per connection, or when preparing failed (the query then runs
// unprepared and reports its own error).
func (e *engine) prepared(ctx context.Context, c *query, writer bool) *sql.Stmt {
	if e.pg || e.noPrepare {
		return nil
	}
	slot, db := &c.r, e.rdb
	if writer {
		slot, db = &c.w, e.wdb
	}
	if st := slot.Load(); st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := slot.Load(); st != nil || c.failed {
		return st
	}
	st, err := db.PrepareContext(ctx, c.text)
	if err != nil {
		c.failed = ctx.Err() == nil
		return nil
	}
	slot.Store(st)
	return st
}

// isWrite reports whether a statement changes data, by its first keyword.
func isWrite(q string) bool {
	q = strings.TrimLeft(q, " \t\r\n(")
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "INSERT", "UPDATE", "DELETE", "REPLAC":
		return true
	}
	return false
}

// rebind turns ? and ?N placeholders into PostgreSQL's $N, leaving quoted
// strings, quoted identifiers and comments alone.
func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch c {
		case '\'', '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(q) {
				j = len(q) - 1
			}
			b.WriteString(q[i : j+1])
			i = j
		case '-':
			if i+1 < len(q) && q[i+1] == '-' {
				j := strings.IndexByte(q[i:], '\n')
				if j < 0 {
					j = len(q) - i
				}
				b.WriteString(q[i : i+j])
				i += j - 1
				continue
			}
			b.WriteByte(c)
		case '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pgArgs converts what pgx would refuse: the store keeps booleans as INTEGER
// 0/1 in both schemas, and pgx does not encode a Go bool into an integer
// parameter.
func (e *engine) args(args []any) []any {
	if !e.pg {
		return args
	}
	for i, a := range args {
		if _, ok := a.(bool); ok {
			out := make([]any, len(args))
			copy(out, args)
			for j := i; j < len(out); j++ {
				if v, ok := out[j].(bool); ok {
					out[j] = boolInt(v)
				}
			}
			return out
		}
	}
	return args
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// poolQuerier runs statements outside a transaction: writes on the writer,
// reads on the readers.
type poolQuerier struct{ e *engine }

func (p *poolQuerier) db(c *query) *sql.DB {
	if c.write {
		return p.e.wdb
	}
	return p.e.rdb
}

func (p *poolQuerier) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c := p.e.lookup(q)
	args = p.e.args(args)
	var res sql.Result
	var err error
	if st := p.e.prepared(ctx, c, true); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = p.e.wdb.ExecContext(ctx, c.text, args...)
	}
	if err == nil && c.config && changedRows(res) {
		p.e.wrote()
	}
	return res, err
}

// changedRows reports whether a write changed any row (true when the driver
// cannot say): a conditional UPDATE or a purge that matched nothing leaves
// the data version alone.
func changedRows(res sql.Result) bool {
	n, err := res.RowsAffected()
	return err != nil || n > 0
}

// A write through QueryContext or QueryRowContext (… RETURNING) commits when
// the caller closes its rows, after these return: the version moves before
// (so the caller's next read sees it) and once more after the commit — on
// PostgreSQL through the notification, on SQLite when the watcher next gets
// the writer, which the rows hold until then — so that a cache filled in
// between, with the old row under the new version, is not trusted.
func (p *poolQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c := p.e.lookup(q)
	args = p.e.args(args)
	if c.config {
		p.e.wrote()
		defer p.e.settle.Store(true)
	}
	if st := p.e.prepared(ctx, c, c.write); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.db(c).QueryContext(ctx, c.text, args...)
}

func (p *poolQuerier) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c := p.e.lookup(q)
	args = p.e.args(args)
	if c.config {
		p.e.wrote()
		defer p.e.settle.Store(true)
	}
	if st := p.e.prepared(ctx, c, c.write); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db(c).QueryRowContext(ctx, c.text, args...)
}

// txQuerier runs statements inside one transaction, through the prepared
// statement when there is one.
type txQuerier struct {
	e  *engine
	tx *sql.Tx
	// config: a statement wrote a table that caches read.
	config bool
	// missed are queries run unprepared because their writer statement did
	// not exist yet: preparing it needs the writer connection, which this
	// transaction holds. InTx prepares them after the commit.
	missed []*query
}

func (t *txQuerier) stmt(ctx context.Context, c *query) *sql.Stmt {
	if t.e.pg || t.e.noPrepare {
		return nil
	}
	if st := c.w.Load(); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	t.missed = append(t.missed, c)
	return nil
}

// prepareMissed prepares, on the writer, the statements a transaction ran
// unprepared, once the transaction has released the writer.
func (t *txQuerier) prepareMissed(ctx context.Context) {
	for _, c := range t.missed {
		t.e.prepared(ctx, c, true)
	}
}

func (t *txQuerier) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c := t.e.lookup(q)
	args = t.e.args(args)
	var res sql.Result
	var err error
	if st := t.stmt(ctx, c); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, c.text, args...)
	}
	if err == nil && c.config && changedRows(res) {
		t.config = true
	}
	return res, err
}

func (t *txQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c := t.e.lookup(q)
	t.config = t.config || c.config
	args = t.e.args(args)
	if st := t.stmt(ctx, c); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, c.text, args...)
}

func (t *txQuerier) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c := t.e.lookup(q)
	t.config = t.config || c.config
	args = t.e.args(args)
	if st := t.stmt(ctx, c); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, c.text, args...)
}

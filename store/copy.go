package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// TableCount is one table's row count in a copy: what the source had and
// what the target has after the copy.
type TableCount struct {
	Table  string `json:"table"`
	Source int64  `json:"source"`
	Target int64  `json:"target"`
}

// CopyToPostgres copies every table of a SQLite store into an empty
// PostgreSQL store, parents before children (foreign keys), in one
// PostgreSQL transaction: the target ends up with everything or nothing.
// The source is read in one read transaction, so the copy is a consistent
// snapshot; stop the portal first all the same (quiesce it), or what it
// writes after the snapshot is not copied. After the commit, every table's
// rows are counted on both sides; a mismatch is an error, returned with the
// counts.
func CopyToPostgres(ctx context.Context, src, dst *Store) ([]TableCount, error) {
	if src.e.pg || !dst.e.pg {
		return nil, errors.New("store: copy goes from a SQLite store to a PostgreSQL store")
	}
	stx, err := src.e.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	defer stx.Rollback()
	tables, err := sqliteTablesInFKOrder(ctx, stx)
	if err != nil {
		return nil, err
	}
	conn, err := dst.e.wdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	defer conn.Close()
	var counts []TableCount
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, t := range tables {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
				return fmt.Errorf("table %s is missing on the target: %w", t, err)
			}
			if n != 0 {
				return fmt.Errorf("the target is not empty (%s has %d rows): copy only into a new database", t, n)
			}
		}
		for _, t := range tables {
			n, err := copyTable(ctx, stx, tx, t)
			if err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			counts = append(counts, TableCount{Table: t, Source: n})
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	dst.e.wrote()
	var bad []string
	for i := range counts {
		c := &counts[i]
		if err := dst.e.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+pgx.Identifier{c.Table}.Sanitize()).Scan(&c.Target); err != nil {
			return counts, fmt.Errorf("store: copy: count %s: %w", c.Table, err)
		}
		if c.Target != c.Source {
			bad = append(bad, fmt.Sprintf("%s: %d rows in the source, %d in the target", c.Table, c.Source, c.Target))
		}
	}
	if len(bad) > 0 {
		return counts, fmt.Errorf("store: copy: row counts differ: %v", bad)
	}
	return counts, nil
}

// sqliteTablesInFKOrder lists the application's tables so that every table
// comes after the tables its foreign keys point to.
func sqliteTablesInFKOrder(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: copy: tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	deps := map[string][]string{}
	for _, n := range names {
		r, err := tx.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, fmt.Errorf("store: copy: foreign keys of %s: %w", n, err)
		}
		for r.Next() {
			var p string
			if err := r.Scan(&p); err != nil {
				r.Close()
				return nil, err
			}
			if p != n {
				deps[n] = append(deps[n], p)
			}
		}
		r.Close()
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("store: copy: foreign keys form a cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		ps := deps[n]
		sort.Strings(ps)
		for _, p := range ps {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyTable streams one table with COPY, converting each value to what the
// target column's type takes in binary COPY.
func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, table string) (int64, error) {
	types := map[string]string{}
	r, err := dst.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return 0, err
	}
	for r.Next() {
		var c, t string
		if err := r.Scan(&c, &t); err != nil {
			r.Close()
			return 0, err
		}
		types[c] = t
	}
	r.Close()
	if err := r.Err(); err != nil {
		return 0, err
	}
	rows, err := src.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	for _, c := range cols {
		if _, ok := types[c]; !ok {
			return 0, fmt.Errorf("column %s is missing on the target", c)
		}
	}
	var values [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		for i, c := range cols {
			v, err := pgValue(vals[i], types[c])
			if err != nil {
				return 0, fmt.Errorf("column %s: %w", c, err)
			}
			vals[i] = v
		}
		values = append(values, vals)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return dst.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(values))
}

// pgValue converts a value read from SQLite for a PostgreSQL column type.
func pgValue(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch pgType {
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return fmt.Sprint(x), nil
		}
	case "bigint":
		if x, ok := v.(int64); ok {
			return x, nil
		}
	case "integer":
		if x, ok := v.(int64); ok {
			return int32(x), nil
		}
	case "double precision", "real":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	}
	return nil, fmt.Errorf("cannot store a %T in a %s column", v, pgType)
}

// Backup writes a consistent copy of a SQLite database to file with VACUUM
// INTO, while the portal keeps running (it reads one snapshot; writers are
// not blocked). file must not exist yet. PostgreSQL is backed up with its own
// tools (pg_dump).
func (s *Store) Backup(ctx context.Context, file string) error {
	if s.e.pg {
		return errors.New("store: backup is for SQLite; back up PostgreSQL with pg_dump")
	}
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("store: backup: %s already exists", file)
	}
	// A reader connection is query_only; VACUUM INTO writes only the new
	// file, but SQLite still refuses it there, so lift the flag on this
	// one connection for the duration.
	conn, err := s.e.rdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer conn.ExecContext(context.Background(), `PRAGMA query_only = 1`)
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, file); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"portico/store"
)

func runDB(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "db", args, map[string]func(context.Context, *cli, []string) error{
		"copy":   runDBCopy,
		"backup": runDBBackup,
	})
}

// runDBCopy moves an installation from SQLite to PostgreSQL: every table in
// one PostgreSQL transaction, then the row counts compared table by table.
// Stop the portal first; the key file beside the SQLite database must then
// be given to every replica as PORTICO_SECRET_KEY.
func runDBCopy(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("db copy")
	from := c.dbFlag(fs)
	fs.StringVar(from, "from", *from, "SQLite database file to copy (same as --db)")
	to := fs.String("to", "", "postgres:// URL of an empty database (required)")
	asJSON := fs.Bool("json", false, "print the row counts as JSON")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if store.IsPostgres(*from) {
		return errors.New("--from must be a SQLite database file")
	}
	if !store.IsPostgres(*to) {
		return errors.New("--to must be a postgres:// or postgresql:// URL")
	}
	src, err := c.openStore(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := c.openStore(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	counts, cerr := store.CopyToPostgres(ctx, src, dst)
	if counts == nil && cerr != nil {
		return cerr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %10s %10s\n", "table", "source", "target")
	for _, t := range counts {
		mark := ""
		if t.Source != t.Target {
			mark = "  MISMATCH"
		}
		fmt.Fprintf(&b, "%-28s %10d %10d%s\n", t.Table, t.Source, t.Target, mark)
	}
	if cerr == nil {
		fmt.Fprintf(&b, "copied %d tables to %s; every row count matches", len(counts), store.RedactDSN(*to))
	}
	if err := c.output(*asJSON, counts, b.String()); err != nil {
		return err
	}
	return cerr
}

// runDBBackup writes a consistent copy of the SQLite database while the
// portal runs (VACUUM INTO).
func runDBBackup(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("db backup")
	db := c.dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: portico db backup [--db portico.db] FILE")
	}
	if store.IsPostgres(*db) {
		return errors.New("db backup is for SQLite; back up PostgreSQL with pg_dump (see the README)")
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	file := fs.Arg(0)
	if err := st.Backup(ctx, file); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "backed up %s to %s (keep %s.key with it: it opens the secrets)\n", *db, file, *db)
	return err
}

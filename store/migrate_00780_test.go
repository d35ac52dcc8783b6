package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
)

// TestMigration00780KeepsPolicies: the rebuild of policies for the new kind
// keeps every policy, version and attachment (dropping the old table must
// not cascade into its children), and foreign keys still hold afterwards.
func TestMigration00780KeepsPolicies(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	before := fstest.MapFS{}
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	entries, _ := fs.ReadDir(sub, ".")
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), "00780_") {
			continue
		}
		b, _ := fs.ReadFile(sub, e.Name())
		before[e.Name()] = &fstest.MapFile{Data: b}
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, before, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO policies (id, name, kind, current_version, created_at, updated_at) VALUES ('p', 'P', 'user_access', 2, 1, 1)`)
	exec(`INSERT INTO policy_versions (policy_id, version, document, author, created_at) VALUES ('p', 1, '{}', 'a', 1), ('p', 2, '{}', 'a', 2)`)
	exec(`INSERT INTO policy_attachments (point, target, policy_id, created_at) VALUES ('portal', '', 'p', 1)`)

	if err := migrate(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	var versions, attachments int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM policy_versions), (SELECT COUNT(*) FROM policy_attachments)`).Scan(&versions, &attachments); err != nil {
		t.Fatal(err)
	}
	if versions != 2 || attachments != 1 {
		t.Fatalf("after migration: %d versions, %d attachments; want 2 and 1", versions, attachments)
	}
	exec(`INSERT INTO policies (id, name, kind, current_version, created_at, updated_at) VALUES ('q', 'Q', 'api_request', 1, 1, 1)`)
	if _, err := db.ExecContext(ctx, `INSERT INTO policy_versions (policy_id, version, document, author, created_at) VALUES ('nope', 1, '{}', 'a', 1)`); err == nil {
		t.Fatal("a version of a missing policy was accepted: the foreign key is gone")
	}
	exec(`DELETE FROM policies WHERE id = 'p'`)
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM policy_versions`).Scan(&versions); err != nil || versions != 0 {
		t.Fatalf("versions after deleting their policy: %d %v", versions, err)
	}
}

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

// TestMigration00630TakesBackUnprovenVerification: accounts created from
// invitations before link_mailed existed were all marked verified; the
// migration unmarks them, except where an identity provider has vouched
// since (a linked identity), and leaves other accounts alone.
func TestMigration00630TakesBackUnprovenVerification(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The database as it was before 00630.
	before := fstest.MapFS{}
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	entries, _ := fs.ReadDir(sub, ".")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "00630_") {
			continue
		}
		b, _ := fs.ReadFile(sub, e.Name())
		before[e.Name()] = &fstest.MapFile{Data: b}
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, before, goose.WithDisableGlobalRegistry(true))
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
	exec(`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('o', 'acme', 'Acme', 1, 1)`)
	for _, id := range []string{"invited", "invited-then-idp", "created"} {
		exec(`INSERT INTO users (id, org_id, email, email_verified, name, role, created_at, updated_at)
			VALUES (?, 'o', ?, 1, 'X', 'member', 1, 1)`, id, id+"@acme.example")
	}
	for _, id := range []string{"invited", "invited-then-idp"} {
		exec(`INSERT INTO invitations (id, org_id, email, role, token_hash, created_at, expires_at, accepted_at, accepted_by)
			VALUES (?, 'o', ?, 'member', ?, 1, 9, 2, ?)`, "i-"+id, id+"@acme.example", "h-"+id, id)
	}
	exec(`INSERT INTO connections (id, org_id, type, name, created_at, updated_at) VALUES ('c', 'o', 'oidc', 'IdP', 1, 1)`)
	exec(`INSERT INTO identities (connection_id, subject, user_id, org_id, created_at, last_login_at)
		VALUES ('c', 'sub', 'invited-then-idp', 'o', 1, 1)`)

	if err := migrate(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"invited": false, "invited-then-idp": true, "created": true} {
		var got bool
		if err := db.QueryRowContext(ctx, `SELECT email_verified FROM users WHERE id = ?`, id).Scan(&got); err != nil || got != want {
			t.Errorf("%s: email_verified %v (%v), want %v", id, got, err, want)
		}
	}
}

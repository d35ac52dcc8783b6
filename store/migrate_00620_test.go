package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestMigration00620KeepsExistingPortalClientsFirstParty: clients that
// exist at the upgrade keep working without a consent page, except the
// dynamically registered ones; clients created afterwards default to
// third-party.
func TestMigration00620KeepsExistingPortalClientsFirstParty(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 510); err != nil { // a database from before 00620
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('o1', 'acme', 'Acme', 1, 1)`)
	for _, c := range []struct {
		id      string
		dynamic int
	}{{"portal", 0}, {"dcr", 1}} {
		exec(`INSERT INTO oauth_clients (id, org_id, client_id, name, type, token_endpoint_auth_method, dynamic, created_at, updated_at)
			VALUES (?, 'o1', ?, ?, 'web', 'client_secret_basic', ?, 1, 1)`, c.id, c.id, c.id, c.dynamic)
	}
	if err := migrate(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO oauth_clients (id, org_id, client_id, name, type, token_endpoint_auth_method, created_at, updated_at)
		VALUES ('new', 'o1', 'new', 'new', 'web', 'client_secret_basic', 2, 2)`)
	for id, want := range map[string]bool{"portal": true, "dcr": false, "new": false} {
		var got bool
		if err := db.QueryRowContext(ctx, `SELECT first_party FROM oauth_clients WHERE id = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("client %s: first_party %v, want %v", id, got, want)
		}
	}
}

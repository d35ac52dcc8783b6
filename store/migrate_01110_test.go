package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestMigration01110RecordsTheMakersOfExistingCredentials: credentials
// made before the maker columns take the member from their creation's
// audit event and the credential from the API's "api-token:ID" or
// "api-client:CLIENT (grant ID)" label, so
// they stop with their makers too; the command line's have none.
func TestMigration01110RecordsTheMakersOfExistingCredentials(t *testing.T) {
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
	if _, err := p.UpTo(ctx, 1109); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, tk := range []struct{ id, by string }{{"portal", "ada@acme.example"}, {"api", "api-token:portal"}, {"cli", "cli"},
		{"granted", "api-client:sync-1 (grant api)"}} {
		exec(`INSERT INTO api_tokens (id, name, token_hash, role, created_by, created_at, expires_at) VALUES (?, ?, ?, 'admin', ?, 1, 2)`,
			tk.id, tk.id, "h-"+tk.id, tk.by)
	}
	exec(`INSERT INTO audit_events (id, at, actor_id, actor, action, target_type, target_id) VALUES
		('e1', 1, 'u-ada', 'ada@acme.example', 'api_token.create', 'api_token', 'portal'),
		('e2', 1, '', 'api-token:portal', 'api_token.create', 'api_token', 'api'),
		('e3', 1, '', 'cli', 'api_token.create', 'api_token', 'cli')`)
	if err := migrate(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][2]string{"portal": {"u-ada", ""}, "api": {"", "portal"}, "cli": {"", ""}, "granted": {"", "api"}} {
		var user, token string
		if err := db.QueryRowContext(ctx, `SELECT created_by_user_id, created_by_token_id FROM api_tokens WHERE id = ?`, id).Scan(&user, &token); err != nil {
			t.Fatal(err)
		}
		if user != want[0] || token != want[1] {
			t.Errorf("%s: maker (%q, %q), want %q", id, user, token, want)
		}
	}
}

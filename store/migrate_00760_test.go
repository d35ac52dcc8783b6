package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
)

// TestMigration00760TurnsStoredGroupsIntoRows: the group names users carried
// before first-class groups become the organization's groups (local and
// idp), with the users as members, once per organization and name.
func TestMigration00760TurnsStoredGroupsIntoRows(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := fstest.MapFS{}
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	entries, _ := fs.ReadDir(sub, ".")
	for _, e := range entries {
		if e.Name() >= "00760_" {
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
	exec(`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ('o', 'acme', 'Acme', 1, 1), ('g', 'globex', 'Globex', 1, 1)`)
	for _, u := range [][4]string{
		{"a", "o", `["developers"," ops "]`, `["eng"]`},
		{"b", "o", `["developers"]`, `[]`},
		{"c", "g", `["developers"]`, `["eng",""]`},
	} {
		exec(`INSERT INTO users (id, org_id, email, name, role, local_groups, idp_groups, created_at, updated_at)
			VALUES (?, ?, ?, 'X', 'member', ?, ?, 1, 1)`, u[0], u[1], u[0]+"@x.example", u[2], u[3])
	}
	if err := migrate(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT g.org_id || ':' || g.source || ':' || g.name || ':' ||
		(SELECT COUNT(*) FROM org_group_members m WHERE m.group_id = g.id) FROM org_groups g ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	want := []string{"g:idp:eng:1", "g:local:developers:1", "o:idp:eng:1", "o:local:developers:2", "o:local:ops:1"}
	if !slices.Equal(got, want) {
		t.Fatalf("groups after migration:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}

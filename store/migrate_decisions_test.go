package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestDecisionLogMigration: a database with the old decision table keeps
// its decisions through migration 00640, filters and context included.
func TestDecisionLogMigration(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 510); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i, row := range [][]any{
		{"oldref1", ms(at), "authorize", "org1", "u1", "ann@example.com", "app", `{"ip":"198.51.100.4","country":"BR"}`, "pol", 2, 1, "challenge", "new location"},
		{"oldref2", ms(at.Add(time.Second)), "token", "org2", "", "svc-client", "svc-client", `{}`, "", 0, 0, "permit", ""},
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO policy_decisions (id, at, point, org_id, user_id, subject, client_id, context,
			policy_id, policy_version, rule, action, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(i, err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	e := newEngine(false, db, db)
	e.watch = &sqliteConnWatcher{db: db}
	s := &Store{e: e, q: e.pool, Now: time.Now}
	all, err := s.Decisions(ctx, DecisionFilter{})
	if err != nil || len(all) != 2 {
		t.Fatalf("after migration: %v %+v", err, all)
	}
	d := all[1]
	if !d.At.Equal(at) || d.Point != "authorize" || d.OrgID != "org1" || d.UserID != "u1" || d.Subject != "ann@example.com" ||
		d.ClientID != "app" || d.PolicyID != "pol" || d.PolicyVersion != 2 || d.Rule != 1 || d.Action != "challenge" ||
		d.Reason != "new location" || string(d.Context) != `{"country":"BR","ip":"198.51.100.4"}` {
		t.Fatalf("migrated decision: %+v %s", d, d.Context)
	}
	if got, _ := s.Decisions(ctx, DecisionFilter{User: "ann@example.com"}); len(got) != 1 {
		t.Fatalf("by subject after migration: %d", len(got))
	}
	if got, _ := s.Decisions(ctx, DecisionFilter{User: "svc-client", Action: "permit"}); len(got) != 1 || got[0].UserID != "" {
		t.Fatalf("machine after migration: %+v", got)
	}
}

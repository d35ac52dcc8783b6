package main

import (
	"path/filepath"
	"strings"
	"testing"

	"portico/store/storetest"
)

func TestDBBackupAndCopyToPostgres(t *testing.T) {
	// The source is SQLite whatever the test engine.
	tc := &testCLI{t: t, env: map[string]string{"PORTICO_DB": filepath.Join(t.TempDir(), "portico.db")}}
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	backup := filepath.Join(t.TempDir(), "backup.db")
	out := tc.mustRun("db", "backup", backup)
	if !strings.Contains(out, backup) {
		t.Fatalf("backup output: %q", out)
	}
	b := &testCLI{t: t, env: map[string]string{"PORTICO_DB": backup}}
	if out := b.mustRun("org", "list"); !strings.Contains(out, "acme") {
		t.Fatalf("the backup lacks the organization:\n%s", out)
	}

	url := storetest.PostgresDSN(t)
	out = tc.mustRun("db", "copy", "--to", url)
	if !strings.Contains(out, "every row count matches") || !strings.Contains(out, "organizations") {
		t.Fatalf("copy output:\n%s", out)
	}
	if strings.Contains(out, "MISMATCH") {
		t.Fatalf("copy output:\n%s", out)
	}
	pg := &testCLI{t: t, env: map[string]string{"PORTICO_DB": url}}
	if out := pg.mustRun("org", "list"); !strings.Contains(out, "acme") {
		t.Fatalf("PostgreSQL lacks the organization:\n%s", out)
	}
	if _, err := tc.run("db", "copy", "--to", url); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("copy into a non-empty database: %v", err)
	}
}

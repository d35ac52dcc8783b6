package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestDataVersionSettlesAfterReturningWrite: a write to a configuration
// table through QueryRow (… RETURNING) commits only when its row is
// scanned, after the call: the version moves at the call and once more
// after the commit, so a cache filled in between is not trusted.
func TestDataVersionSettlesAfterReturningWrite(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v0, _ := s.DataVersion(ctx)
	row := s.q.QueryRowContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) RETURNING key`, "k", []byte("v"))
	v1, _ := s.DataVersion(ctx)
	if v1 == v0 {
		t.Fatal("the version did not move at the call")
	}
	var k string
	if err := row.Scan(&k); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		if v2, _ := s.DataVersion(ctx); v2 != v1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the version did not move again after the commit")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestLegacyPoolDataVersion: the single-pool mode the benchmarks compare
// against still sees commits (its own included, as before).
func TestLegacyPoolDataVersion(t *testing.T) {
	legacySQLitePool = true
	defer func() { legacySQLitePool = false }()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v0, err := s.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v1, err := s.DataVersion(ctx); err != nil || v1 == v0 {
		t.Fatalf("legacy pool: version %d -> %d (%v) after a commit", v0, v1, err)
	}
}

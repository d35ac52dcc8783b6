package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// seed puts a little of everything into s: rows with foreign keys, a blob,
// NULLs and booleans.
func seed(t *testing.T, s *store.Store) store.Organization {
	t.Helper()
	ctx := context.Background()
	o := mustOrg(t, s, "acme", "acme.test")
	u := store.User{OrgID: o.ID, Email: "a@acme.test", Name: "A", Role: "admin", EmailVerified: true}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "blob", []byte{0, 1, 2, 255}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := store.RefreshFamily{ClientID: "c", OrgID: o.ID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateRefreshFamily(ctx, &f, store.RefreshToken{Hash: "h", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := storetest.OpenDSN(t, filepath.Join(dir, "live.db"))
	seed(t, s)
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, backup); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
	mustOrg(t, s, "after") // the live database still takes writes
	b := storetest.OpenDSN(t, backup)
	if _, err := b.OrganizationBySlug(ctx, "acme"); err != nil {
		t.Fatalf("backup lacks a row: %v", err)
	}
	if _, err := b.OrganizationBySlug(ctx, "after"); err == nil {
		t.Fatal("backup has a row written after it")
	}
}

func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	src := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "src.db"))
	o := seed(t, src)
	dst := storetest.OpenDSN(t, storetest.PostgresDSN(t))
	counts, err := store.CopyToPostgres(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, c := range counts {
		if c.Source != c.Target {
			t.Errorf("%s: %d → %d", c.Table, c.Source, c.Target)
		}
		total += c.Target
	}
	if total < 6 {
		t.Fatalf("copied %d rows: %+v", total, counts)
	}
	got, err := dst.OrganizationBySlug(ctx, "acme")
	if err != nil || got.ID != o.ID || len(got.Domains) != 1 {
		t.Fatalf("copied org: %+v %v", got, err)
	}
	if v, err := dst.Setting(ctx, "blob"); err != nil || !bytes.Equal(v, []byte{0, 1, 2, 255}) {
		t.Fatalf("copied blob: %v %v", v, err)
	}
	us, err := dst.Users(ctx, o.ID)
	if err != nil || len(us) != 1 || !us[0].EmailVerified {
		t.Fatalf("copied users: %+v %v", us, err)
	}
	if _, err := store.CopyToPostgres(ctx, src, dst); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("copy into a non-empty database: %v", err)
	}
}

package store_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"portico/store"
)

// TestOpenReadOnlyDatabaseSaysSo: a SQLite database on a read-only
// filesystem is refused at start with a message that says so (SQLite alone
// says only "unable to open database file"), and nothing is written. The
// read-only view is a bind mount (root only; CI runs as root).
func TestOpenReadOnlyDatabaseSaysSo(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the read-only test bind-mounts a directory and needs root; CI runs as root")
		}
		t.Skip("bind-mounts a directory read-only: run as root")
	}
	ctx := context.Background()
	rw, ro := t.TempDir(), t.TempDir()
	st, err := store.Open(ctx, filepath.Join(rw, "portico.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if out, err := exec.Command("mount", "--bind", rw, ro).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("bind mount: %v %s", err, out)
		}
		t.Skipf("cannot bind-mount here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", ro).Run() })
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", ro).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	before, _ := os.ReadDir(rw)
	_, err = store.Open(ctx, filepath.Join(ro, "portico.db"))
	if err == nil || !strings.Contains(err.Error(), "read-only filesystem") {
		t.Fatalf("open on a read-only filesystem: %v", err)
	}
	if after, _ := os.ReadDir(rw); len(after) != len(before) {
		t.Fatalf("files changed: %v -> %v", before, after)
	}
}

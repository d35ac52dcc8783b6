package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Each engine has its own migrations with the same file names and version
// numbers: migrations/sqlite and migrations/postgres.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// migrationLockID is the advisory lock replicas take while migrating
// PostgreSQL, so that several starting at once apply each migration once.
const migrationLockID = 0x706f727469636f // "portico"

// migrate applies every pending migration, each in its own transaction.
// Migrations are forward-only: a mistake is fixed by a new migration.
func migrate(ctx context.Context, db *sql.DB, pg bool) error {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true),
		// Each area of the code owns a range of migration numbers (00100
		// the authorization server, 00200 federation, …), so a migration
		// can land after a higher-numbered one; out-of-order application
		// keeps databases made in between upgradable.
		goose.WithAllowOutofOrder(true)}
	if pg {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID),
			lock.WithLockTimeout(1, 300)) // retry every second for five minutes
		if err != nil {
			return fmt.Errorf("store: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if pg {
		// Replicas restarting find nothing to do; asking first (without
		// the lock) spares them waiting on each other for the lock.
		if pending, err := p.HasPending(ctx); err == nil && !pending {
			return nil
		}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// SchemaID identifies the PostgreSQL migrations compiled in (a hash of their
// files), so that tests can keep one migrated template database per schema.
func SchemaID() string {
	h := sha256.New()
	entries, _ := fs.ReadDir(migrations, "migrations/postgres")
	for _, e := range entries {
		b, _ := fs.ReadFile(migrations, "migrations/postgres/"+e.Name())
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

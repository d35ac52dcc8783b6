// Package storetest gives tests a fresh, empty Portico database on either
// engine: a SQLite file in t.TempDir(), or a PostgreSQL database with a
// random name created on the server named by PORTICO_TEST_POSTGRES and
// dropped at cleanup.
//
// Which engine Open and DSN use is PORTICO_TEST_ENGINE: "sqlite" (default)
// or "postgres", so any package's tests run on PostgreSQL with
//
//	PORTICO_TEST_ENGINE=postgres PORTICO_TEST_POSTGRES=postgres://… go test ./handlers/
//
// Without PORTICO_TEST_POSTGRES a PostgreSQL test is skipped with a message,
// except under CI=true, where it fails: CI must run both engines.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"portico/store"
)

// Engines are the names of the two engines, as subtests are named.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Engine is the engine chosen by PORTICO_TEST_ENGINE.
func Engine() string {
	if os.Getenv("PORTICO_TEST_ENGINE") == Postgres {
		return Postgres
	}
	return SQLite
}

// DSN returns what store.Open takes for a fresh database on Engine().
func DSN(t testing.TB) string {
	t.Helper()
	return EngineDSN(t, Engine())
}

// EngineDSN returns a fresh database on the named engine.
func EngineDSN(t testing.TB, engine string) string {
	t.Helper()
	if engine == Postgres {
		return PostgresDSN(t)
	}
	return filepath.Join(t.TempDir(), "portico.db")
}

// Open opens a fresh, migrated store on Engine(), closed at cleanup.
func Open(t testing.TB) *store.Store {
	t.Helper()
	return OpenDSN(t, DSN(t))
}

// OpenDSN opens the store at dsn, closed at cleanup.
func OpenDSN(t testing.TB, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ServerURL is PORTICO_TEST_POSTGRES; without it the test is skipped, or
// fails under CI=true.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PORTICO_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PORTICO_TEST_POSTGRES is not set: CI runs every store test on PostgreSQL too (see scripts/pg-test-cluster.sh)")
		}
		t.Skip("PostgreSQL half skipped: set PORTICO_TEST_POSTGRES to a server URL (eval \"$(scripts/pg-test-cluster.sh start)\")")
	}
	return u
}

// PostgresDSN creates an empty database with a random name on the test
// server and returns its URL; the database is dropped at cleanup.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	var b [6]byte
	rand.Read(b[:])
	name := "portico_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("storetest: connect to PORTICO_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(context.Background())
	tpl, err := template(ctx, admin, server)
	if err != nil {
		t.Fatalf("storetest: template database: %v", err)
	}
	// FILE_COPY (PostgreSQL 15) copies a small database about twice as
	// fast as the default WAL_LOG; older servers take the plain form.
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tpl+` STRATEGY FILE_COPY`); err != nil {
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tpl); err != nil {
			t.Fatalf("storetest: create database: %v", err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("storetest: PORTICO_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// template returns a database migrated to the compiled-in schema, made once
// per schema on the server (under an advisory lock, so parallel test
// processes make it once) and then copied for every test: migrating a new
// database takes about a second, copying one a few milliseconds.
func template(ctx context.Context, admin *pgx.Conn, server string) (string, error) {
	tpl := "portico_tpl_" + store.SchemaID()
	var exists bool
	check := func() error {
		return admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, tpl).Scan(&exists)
	}
	if err := check(); err != nil || exists {
		return tpl, err
	}
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, tpl); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtext($1))`, tpl)
	if err := check(); err != nil || exists {
		return tpl, err
	}
	// A template left half-made by a killed run is made again.
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+tpl+` WITH (FORCE)`); err != nil {
		return "", err
	}
	// C collation so that ORDER BY sorts as SQLite does (bytewise).
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+tpl+` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`); err != nil {
		return "", err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", err
	}
	u.Path = "/" + tpl
	s, err := store.Open(ctx, u.String())
	if err != nil {
		return "", err
	}
	s.Close()
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+tpl+` WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`); err != nil {
		return "", err
	}
	return tpl, nil
}

// Each runs fn once per engine as subtests named "sqlite" and "postgres",
// with a function that opens a fresh store on that engine. The PostgreSQL
// subtest is skipped (or fails under CI) without PORTICO_TEST_POSTGRES.
func Each(t *testing.T, fn func(t *testing.T, e Env)) {
	for _, name := range []string{SQLite, Postgres} {
		t.Run(name, func(t *testing.T) { fn(t, Env{Name: name}) })
	}
}

// Env is one engine inside Each.
type Env struct{ Name string }

// DSN is a fresh database on this engine.
func (e Env) DSN(t testing.TB) string { t.Helper(); return EngineDSN(t, e.Name) }

// Open opens a fresh store on this engine.
func (e Env) Open(t testing.TB) *store.Store { t.Helper(); return OpenDSN(t, e.DSN(t)) }

// SettledVersion returns st's data version once it has stopped moving. On
// PostgreSQL a commit's notification arrives after the commit returns, so a
// test that asks "did this write anything?" must first let the
// notifications of its own setup drain; on SQLite the version is exact at
// once and this returns after one quiet interval.
func SettledVersion(t testing.TB, st *store.Store) int64 {
	t.Helper()
	const quiet, limit = 300 * time.Millisecond, 10 * time.Second
	ctx := context.Background()
	v, err := st.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		time.Sleep(quiet)
		next, err := st.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if next == v {
			return v
		}
		v = next
	}
	t.Fatalf("the data version did not settle within %s", limit)
	return 0
}

// Package store persists Portico's aggregates in SQLite (the embedded
// default, through the pure-Go modernc.org/sqlite driver, so the binary needs
// no C toolchain) or PostgreSQL (for several replicas, through
// github.com/jackc/pgx/v5).
//
// One file per aggregate. Every organization-owned method takes the
// organization's ID and filters by it inside the query, so a cross-organization
// hit is ErrNotFound, never someone else's row. Schema changes are embedded,
// forward-only goose migrations, one set per engine with the same file names
// and version numbers (migrations/sqlite, migrations/postgres): goose speaks
// both dialects and its provider API takes an embed.FS without any global
// registry.
//
// The SQL is written once, portable: ? placeholders, TEXT ids, INTEGER
// Unix-millisecond times, booleans as INTEGER 0/1 on both engines, JSON in
// TEXT columns, upserts as INSERT … ON CONFLICT. pgx is used through its
// database/sql driver (stdlib), not its native pool, so that every method
// keeps running through one querier whatever the engine: the querier rebinds ?
// to $n once per query text and caches it, turns Go bools into 0/1, and the
// few statements that must differ ask the engine (GREATEST for SQLite's
// scalar MAX, json_array_elements_text for json_each). A native pgx code path
// would have meant a second implementation of every method. pgx still caches
// prepared statements per connection underneath.
//
// SQLite keeps one writer connection (transactions begin IMMEDIATE) and a
// capped, always-warm pool of query_only readers: writers queue in Go rather
// than in SQLite's sleeping busy handler, and statements are prepared once per
// query text. On PostgreSQL (READ COMMITTED) whatever one process used to
// guarantee by owning the writer holds across replicas by other means:
// single-use codes, refresh tokens and TOTP steps are conditional UPDATEs whose
// affected-row count decides; a getter inside a transaction locks its row
// (FOR UPDATE) so read-modify-write updates are not lost; Lock and TryLock are
// advisory locks for work every replica may start (first signing keys,
// purges); DataVersion counts LISTEN notifications that triggers on the
// configuration tables send at commit. On both engines this process counts
// its own commits to those tables itself; on SQLite other processes' commits
// are seen through the writer connection's PRAGMA data_version, polled in the
// background (see sqliteWatcher).
package store

// Package store persists Portico's aggregates in SQLite through the pure-Go
// modernc.org/sqlite driver, so the binary needs no C toolchain.
//
// One file per aggregate. Every organization-owned method takes the
// organization's ID and filters by it inside the query, so a cross-organization
// hit is ErrNotFound, never someone else's row. Schema changes are embedded,
// forward-only goose migrations (migrations/*.sql): goose was chosen over a
// hand-written runner because it already speaks the PostgreSQL dialect that a
// later multi-replica deployment needs, and its provider API takes an embed.FS
// without any global registry. The SQL stays portable for the same reason:
// TEXT ids, INTEGER Unix-millisecond times, JSON kept in TEXT columns, and
// upserts written as INSERT … ON CONFLICT.
package store

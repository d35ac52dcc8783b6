package store

import (
	"os"
	"strings"
	"testing"
)

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT a FROM t WHERE x = ? AND y = ?`:     `SELECT a FROM t WHERE x = $1 AND y = $2`,
		`SELECT '?' || ? FROM t WHERE "we?ird" = ?`: `SELECT '?' || $1 FROM t WHERE "we?ird" = $2`,
		`SELECT 'it''s ?' , ? -- why? because
		 FROM t WHERE z = ?`: `SELECT 'it''s ?' , $1 -- why? because
		 FROM t WHERE z = $2`,
		`WHERE v = ?1 OR substr(v, 1, length(?1)) = ?1 || '?'`: `WHERE v = $1 OR substr(v, 1, length($1)) = $1 || '?'`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestIsWrite(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1": false, "\n\t insert into t": true, "UPDATE t SET": true,
		"DELETE FROM t RETURNING id": true, "WITH x AS (SELECT 1) SELECT": false,
	} {
		if isWrite(q) != want {
			t.Errorf("isWrite(%q) = %v", q, !want)
		}
	}
}

func TestWrittenTable(t *testing.T) {
	for q, want := range map[string]string{
		"INSERT INTO oauth_clients (id) VALUES (?)":                                                              "oauth_clients",
		"\n\t\tUPDATE users SET name = ? WHERE id = ?":                                                           "users",
		"DELETE FROM policy_decisions WHERE at < ?":                                                              "policy_decisions",
		"INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value": "settings",
	} {
		if got := writtenTable(q); got != want {
			t.Errorf("writtenTable(%q) = %q, want %q", q, got, want)
		}
	}
}

// TestEveryMigrationHasATwin: each engine's migrations have the same file
// names (so the same goose versions), one set per engine.
func TestEveryMigrationHasATwin(t *testing.T) {
	names := func(dir string) map[string]bool {
		entries, err := migrations.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, e := range entries {
			m[e.Name()] = true
		}
		return m
	}
	// A migration left in the old folder would be silently skipped.
	old, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range old {
		if strings.HasSuffix(e.Name(), ".sql") {
			t.Errorf("migrations/%s is not loaded: move it to migrations/sqlite (git mv), its twin to migrations/postgres", e.Name())
		}
	}
	lite, pg := names("migrations/sqlite"), names("migrations/postgres")
	for n := range lite {
		if !pg[n] {
			t.Errorf("migrations/sqlite/%s has no twin in migrations/postgres", n)
		}
	}
	for n := range pg {
		if !lite[n] {
			t.Errorf("migrations/postgres/%s has no twin in migrations/sqlite", n)
		}
	}
}

// TestNotifies: which statements move the data version. The activity
// stamps of sessions and remembered locations do not; anything else written
// to a notifying table does, and so does whatever the parser cannot read.
func TestNotifies(t *testing.T) {
	for q, want := range map[string]bool{
		"UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?":                                        false,
		"UPDATE sessions SET expires_at = MAX(expires_at, ?) WHERE id = ?":                                         false,
		"UPDATE user_locations SET last_used_at = ? WHERE user_id = ? AND network = ?":                             false,
		"UPDATE user_locations SET last_used_at = CASE WHEN a THEN ? ELSE ? END WHERE user_id IN (?, ?)":           false,
		"UPDATE user_locations SET last_used_at = v.at FROM (VALUES (?, ?, ?)) AS v(u, n, at) WHERE user_id = v.u": false,
		"INSERT INTO user_locations (user_id) VALUES (?) ON CONFLICT DO UPDATE SET last_used_at = ?":               true,
		"UPDATE sessions SET id = ?, token_hash = ?, privilege = ? WHERE id = ? AND user_id = ?":                   true,
		"UPDATE sessions SET mfa_at = ? WHERE id = ?":                                                              true,
		"UPDATE sessions SET last_seen_at = ?, privilege = ? WHERE id = ?":                                         true,
		"UPDATE sessions SET last_seen_at = 'x,y' WHERE id = ?":                                                    true,
		"DELETE FROM sessions WHERE user_id = ?":                                                                   true,
		"INSERT INTO sessions (id) VALUES (?)":                                                                     true,
		"DELETE FROM user_locations WHERE user_id = ? AND network = ?":                                             true,
		"INSERT INTO session_auth (session_id) VALUES (?)":                                                         true,
		"DELETE FROM password_change_required WHERE user_id = ?":                                                   true,
		"UPDATE users SET last_seen_at = ? WHERE id = ?":                                                           true,
		"INSERT INTO policy_decisions (id) VALUES (?)":                                                             false,
		"UPDATE oauth_refresh_tokens SET used_at = ? WHERE hash = ?":                                               false,
		// Counting a client-authentication failure is quiet; a block is not.
		"INSERT INTO oauth_client_auth_failures (key, failures, window_start, blocked_until, expires_at) VALUES (?, 1, ?, 0, ?) ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN oauth_client_auth_failures.window_start <= ? THEN 1 ELSE oauth_client_auth_failures.failures + 1 END, window_start = excluded.window_start, expires_at = excluded.expires_at RETURNING failures": false,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES (?, 0)":                                                                      false,
		"insert into oauth_client_auth_failures(key, blocked_until) values (?, 0) on conflict do nothing":                                                false,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES (?, ?)":                                                                      true,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES (?, 5)":                                                                      true,
		"INSERT INTO oauth_client_auth_failures (key, failures) VALUES (?, 1)":                                                                           true,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES (?, 0), (?, ?)":                                                              true,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) SELECT key, 0 FROM x":                                                               true,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES (?, 0) ON CONFLICT (key) DO UPDATE SET blocked_until = ?":                    true,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES (?, 0) ON CONFLICT (key) DO UPDATE SET failures = 1, key = ?":                true,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES ('a,b', 0)":                                                                  true,
		"INSERT INTO oauth_client_auth_failures (key, blocked_until) VALUES (?, 0) ON CONFLICT (key) DO UPDATE SET failures = ? WHERE blocked_until = 0": false,
		"UPDATE oauth_client_auth_failures SET failures = ?, expires_at = ? WHERE key = ?":                                                               false,
		"UPDATE oauth_client_auth_failures SET blocked_until = CASE WHEN blocked_until > ? THEN blocked_until ELSE ? END, expires_at = ? WHERE key = ?":  true,
		"DELETE FROM oauth_client_auth_failures WHERE expires_at < ?":                                                                                    true,
		"INSERT INTO sessions (id, blocked_until) VALUES (?, 0)":                                                                                         true,
	} {
		if got := isWrite(q) && notifies(q, writtenTable(q)); got != want {
			t.Errorf("notifies(%q) = %v, want %v", q, got, want)
		}
	}
}

package store

import "testing"

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

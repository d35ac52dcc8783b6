package store_test

import (
	"context"
	"testing"
)

// TestAuthRequestColumnsSurviveRebuild: migration 00701 rebuilds
// oauth_auth_requests copying only the columns it knows; the columns later
// migrations add (00720's dpop_jkt and pushed) must be there after the
// whole chain, as must 00700's resource and the nullable org_id.
func TestAuthRequestColumnsSurviveRebuild(t *testing.T) {
	s := open(t)
	cols := map[string]bool{} // name → NOT NULL
	q := `SELECT name, "notnull" = 1 FROM pragma_table_info('oauth_auth_requests')`
	if s.Postgres() {
		q = `SELECT column_name, is_nullable = 'NO' FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'oauth_auth_requests'`
	}
	rows, err := s.DB().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var notNull bool
		if err := rows.Scan(&name, &notNull); err != nil {
			t.Fatal(err)
		}
		cols[name] = notNull
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"resource", "dpop_jkt", "pushed", "code_hash", "family_id", "access_jti"} {
		if _, ok := cols[c]; !ok {
			t.Errorf("oauth_auth_requests has no column %s (have %v)", c, cols)
		}
	}
	if notNull, ok := cols["org_id"]; !ok || notNull {
		t.Errorf("org_id must exist and be nullable: present %v, NOT NULL %v", ok, notNull)
	}
}

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
	rows, err := s.DB().QueryContext(context.Background(), `PRAGMA table_info(oauth_auth_requests)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			cid, notNull, pk int
			name, typ        string
			def              any
		)
		if err := rows.Scan(&cid, &name, &typ, &notNull, &def, &pk); err != nil {
			t.Fatal(err)
		}
		cols[name] = notNull == 1
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

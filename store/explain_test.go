package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// growing are the tables that grow with customers (or traffic): a full
// scan of one of them on a list or filter query is a page that gets slower
// with every customer.
var growing = map[string]bool{
	"organizations": true, "org_domains": true, "users": true, "oauth_clients": true, "oauth_client_secrets": true,
	"decisions": true, "decision_refs": true, "audit_events": true, "invitations": true,
	"oauth_refresh_tokens": true, "oauth_refresh_families": true, "sessions": true,
}

// planQuery is one query to explain. ordered marks a list walked in its
// index's order with no filter of its own: its SCAN stops after LIMIT rows,
// so a SCAN is allowed as long as no sort of the whole table follows.
type planQuery struct {
	name    string
	sql     string
	args    []any
	ordered bool
}

// listPlanQueries enumerates every list and filter query: each listQuery
// as a first page, a next page, a previous page and a search, the decision
// filters one by one, and the queries around the lists.
func listPlanQueries(t *testing.T, s *Store) []planQuery {
	t.Helper()
	var out []planQuery
	lists := []struct {
		l       listQuery
		scope   []any
		filters []string
		fargs   []any
		key     any
	}{
		{orgList, nil, nil, nil, "acme"},
		{memberList, []any{"org"}, nil, nil, "ann"},
		{clientList, []any{"org"}, nil, nil, "app"},
		{inviteList, []any{"org"}, nil, nil, int64(1)},
		{auditList, nil, nil, nil, int64(1)},
		{auditOrgList, []any{"org"}, nil, nil, int64(1)},
		{appRefList, nil, []string{appKindCond}, []any{true}, "app"},
		{policyAppList, []any{"pol"}, nil, nil, "client"},
	}
	cursor := func(k any) string { return encodeCursor(k, "id") }
	for _, x := range lists {
		for _, v := range []struct {
			suffix  string
			p       Page
			ordered bool
		}{
			{"first page", Page{}, true},
			{"next page", Page{After: cursor(x.key)}, true},
			{"previous page", Page{Before: cursor(x.key)}, true},
			{"search", Page{Q: "ac"}, false},
			{"search, next page", Page{Q: "ac", After: cursor(x.key)}, false},
		} {
			q, args, _, err := x.l.build(v.p, x.scope, x.filters, x.fargs)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, planQuery{x.l.name + ", " + v.suffix, q, args, v.ordered})
		}
	}
	ctx := context.Background()
	// Make every reference a filter can name exist, so that no filter
	// short-cuts to "nothing matches" and each one's query is explained.
	if _, err := s.InsertDecisions(ctx, []Decision{{At: time.Now(), Point: "authorize", OrgID: "org", UserID: "u",
		Subject: "ann@example.com", ClientID: "app", Action: "deny"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	filters := map[string]DecisionFilter{
		"decisions":               {},
		"decisions by org":        {OrgID: "org"},
		"decisions by user":       {User: "u"},
		"decisions by subject":    {User: "ann@example.com"},
		"decisions by client":     {ClientID: "app"},
		"decisions by action":     {Action: "deny"},
		"decisions by time":       {From: now.Add(-time.Hour), Until: now},
		"decisions by org+action": {OrgID: "org", Action: "deny"},
		"decisions by org+time":   {OrgID: "org", From: now.Add(-time.Hour)},
	}
	for name, f := range filters {
		where, args, none, err := s.decisionConditions(ctx, f)
		if err != nil || none {
			t.Fatalf("%s: %v none=%v", name, err, none)
		}
		for _, p := range []Page{{}, {After: encodeCursor(int64(1)<<40, "1")}} {
			q, qargs, _, err := decisionList.build(p, nil, where, args)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, planQuery{name, q, qargs, len(where) == 0})
		}
	}
	in3 := placeholders(3)
	three := []any{"a", "b", "c"}
	out = append(out,
		planQuery{"domains of a page of organizations", fmt.Sprintf(qDomainsOf, in3), three, false},
		planQuery{"slugs of a page's organizations", fmt.Sprintf(qOrgSlugs, in3), three, false},
		planQuery{"organizations ending soon", qOrgsEnding, []any{1, 2, 10}, false},
		planQuery{"organizations on a plan", qOrgsOnPlan, []any{"plan"}, false},
		planQuery{"secrets of a page of clients", fmt.Sprintf(qSecretsOf, in3), three, false},
		planQuery{"audit retention", qAuditPurge, []any{1, 1000}, false},
		planQuery{"decision retention", qDecisionsOld, []any{1, 1000}, false},
		planQuery{"who references of a user", qWhoRefs, []any{"w:u\x1f", "w:u\x20", "u"}, false},
	)
	return out
}

var planLine = regexp.MustCompile(`^(SCAN|SEARCH) (\w+)(?: AS (\w+))?(.*)$`)

// TestListQueryPlans explains every list and filter query on a real
// database and fails on a full scan of a growing table: a SCAN (of the
// table or a whole index) is allowed only for an ordered list walked in
// index order, where LIMIT stops it. PORTICO_PLAN_DB names a database to
// explain against instead of a fresh one, such as one filled by `portico
// bench seed` (the planner's choices depend on the data once ANALYZE has
// run); the test adds one decision to it.
func TestListQueryPlans(t *testing.T) {
	ctx := context.Background()
	path := os.Getenv("PORTICO_PLAN_DB")
	if path == "" {
		path = filepath.Join(t.TempDir(), "plans.db")
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The checker itself must catch a scan: a filter on an unindexed column.
	if bad := fullScans(t, s, planQuery{"unindexed", "SELECT id FROM decisions d WHERE d.extra = ? ORDER BY id DESC LIMIT 5", []any{"x"}, false}); len(bad) == 0 {
		t.Fatal("the plan check let a full scan of decisions through")
	}
	for _, q := range listPlanQueries(t, s) {
		for _, msg := range fullScans(t, s, q) {
			t.Error(msg)
		}
	}
}

// fullScans explains q and describes each full scan of a growing table.
func fullScans(t *testing.T, s *Store, q planQuery) []string {
	t.Helper()
	// Aliases used in the queries, to the tables they stand for.
	alias := map[string]string{"o": "organizations", "c": "oauth_clients", "d": "decisions"}
	rows, err := s.e.rdb.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q.sql, q.args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", q.name, err, q.sql)
	}
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	rows.Close()
	if testing.Verbose() {
		t.Logf("%s:\n  %s", q.name, strings.Join(plan, "\n  "))
	}
	sorts := strings.Contains(strings.Join(plan, "\n"), "USE TEMP B-TREE FOR")
	var bad []string
	if q.ordered && sorts {
		// A page of an unsearched list is an index walk: a sort step means
		// every matching row is read first, however many there are.
		bad = append(bad, fmt.Sprintf("%s: sorts instead of walking an index\nplan:\n  %s\nsql: %s", q.name,
			strings.Join(plan, "\n  "), q.sql))
	}
	for _, line := range plan {
		m := planLine.FindStringSubmatch(line)
		if m == nil || m[1] != "SCAN" {
			continue
		}
		table := m[2]
		if a, ok := alias[table]; ok {
			table = a
		}
		if !growing[table] || q.ordered {
			continue
		}
		bad = append(bad, fmt.Sprintf("%s: full scan of %s: %q\nplan:\n  %s\nsql: %s", q.name, table, line,
			strings.Join(plan, "\n  "), q.sql))
	}
	return bad
}

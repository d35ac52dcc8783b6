package handlers_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/handlers/handlerstest"
	"portico/store"
)

// TestAuditFiltersExportAndNames: the audit log narrows by actor, action
// and date, shows targets by name, and exports the same events as CSV with
// formula-looking cells defused; an org admin's export holds only their
// organization's events; a bad date is refused with a message.
func TestAuditFiltersExportAndNames(t *testing.T) {
	h := handlerstest.New(t)
	ctx := context.Background()
	acme, globex := h.Org(t, "acme", "acme.example"), h.Org(t, "globex", "globex.example")
	h.User(t, acme, "admin@acme.example", store.RoleAdmin, pw)
	ann := h.User(t, acme, "ann@acme.example", store.RoleMember, pw)
	h.User(t, globex, "admin@globex.example", store.RoleAdmin, pw)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	for _, e := range []store.AuditEvent{
		{OrgID: acme.ID, At: day(3), Actor: "ann@acme.example", Action: "signin.failure", TargetType: "user", TargetID: ann.ID},
		{OrgID: acme.ID, At: day(4), Actor: "ann@acme.example", Action: "signin.success", TargetType: "user", TargetID: ann.ID},
		{OrgID: acme.ID, At: day(5), Actor: "=HYPERLINK(\"http://evil\")", Action: "user.update", TargetType: "user", TargetID: ann.ID},
		{OrgID: acme.ID, At: day(6), Actor: "cli", Action: "client.create", TargetType: "client", TargetID: "gone-client"},
		{OrgID: globex.ID, At: day(4), Actor: "admin@globex.example", Action: "signin.success", TargetType: "user", TargetID: "x"},
	} {
		e := e
		if err := h.Store.RecordAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	c := h.Client(t)
	c.Login("admin@acme.example", pw)
	rows := func(query string) []string {
		t.Helper()
		r := c.Get("/audit?" + query)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", query, r.StatusCode)
		}
		var out []string
		doc(t, r.Body).Find("#audit tbody tr").Each(func(_ int, s *goquery.Selection) {
			out = append(out, s.Find("code").First().Text())
		})
		return out
	}
	// The admin's own sign-in today is in the log too (it comes first).
	for query, want := range map[string]string{
		"action=signin.":                "signin.success signin.success signin.failure",
		"action=signin.success":         "signin.success signin.success",
		"from=2026-11-04&to=2026-11-05": "user.update signin.success",
		"q=cli":                         "client.create",
		"action=signin.&from=2026-11-01&to=2026-11-30&q=ann%40acme.example": "signin.success signin.failure",
	} {
		if got := strings.Join(rows(query), " "); got != want {
			t.Errorf("%s: %q, want %q", query, got, want)
		}
	}
	body := c.Get("/audit?action=signin.failure").Body
	if !strings.Contains(body, "ann &lt;ann@acme.example&gt;") || strings.Contains(doc(t, body).Find("#audit tbody").Text(), ann.ID) {
		t.Error("the target user is not shown by name")
	}
	if r := c.Get("/audit?from=yesterday"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "YYYY-MM-DD") {
		t.Errorf("a bad date: %d", r.StatusCode)
	}

	r := c.Get("/audit/export.csv?to=2026-11-30")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 { // header + acme's four
		t.Fatalf("export has %d lines, want 5:\n%s", len(recs), r.Body)
	}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("a cell a spreadsheet would run: %q", cell)
			}
		}
		if rec[1] == "globex" || strings.Contains(strings.Join(rec, ","), "globex") {
			t.Error("acme's export holds globex's event")
		}
	}
	if !strings.Contains(r.Body, `'=HYPERLINK`) {
		t.Error("the formula cell was not prefixed with a quote")
	}
}

package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/handlers/handlerstest"
	"portico/store"
)

// TestDecisionCharts: the decisions page draws the last day per hour (and
// 30 days per day) as SVG without JavaScript, with the breakdown per app
// and the top deny reasons; an organization's admin sees only their own
// organization's decisions in the charts; reasons are escaped.
func TestDecisionCharts(t *testing.T) {
	h := handlerstest.New(t)
	acme := h.Org(t, "acme", "acme.example")
	other := h.Org(t, "other", "other.example")
	h.User(t, acme, "ann@acme.example", store.RoleAdmin, whPassword)
	now := time.Now()
	var ds []store.Decision
	add := func(org store.Organization, client, action, reason string, ago time.Duration) {
		at := now.Add(-ago)
		ds = append(ds, store.Decision{ID: store.NewDecisionID(at), At: at, Point: "launch", OrgID: org.ID, UserID: "u",
			Subject: "u@x", ClientID: client, Action: action, Reason: reason})
	}
	add(acme, "wiki", "permit", "ok", time.Minute)
	add(acme, "wiki", "deny", "<b>outside hours</b>", 2*time.Minute)
	add(acme, "crm", "challenge", "new network", 3*time.Hour)
	add(other, "secret-app", "deny", "other org's reason", time.Minute)
	if _, err := h.Store.InsertDecisions(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	ann := h.Client(t)
	ann.Login("ann@acme.example", whPassword)
	for _, span := range []string{"", "?span=30d"} {
		r := ann.Get("/decisions" + span)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("decisions%s: %d", span, r.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		if n := doc.Find("#decisions-timeline svg rect").Length(); n < 2 {
			t.Errorf("%s: %d bars in the timeline", span, n)
		}
		if doc.Find("#decision-charts script").Length() > 0 {
			t.Error("the charts use script")
		}
		apps := doc.Find("#decisions-by-app").Text()
		if !strings.Contains(apps, "wiki") || !strings.Contains(apps, "crm") || strings.Contains(apps, "secret-app") {
			t.Errorf("%s: by app %q", span, apps)
		}
		reasons := doc.Find("#top-deny-reasons").Text()
		if !strings.Contains(reasons, "<b>outside hours</b>") || strings.Contains(reasons, "other org") {
			t.Errorf("%s: deny reasons %q", span, reasons)
		}
		if strings.Contains(r.Body, "<b>outside hours</b>") {
			t.Error("a reason is not escaped")
		}
	}
}

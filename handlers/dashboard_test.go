package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/policyeditor"
	"portico/store"
)

// TestDashboardBadgesFollowEachAppsOwnPolicy: the badges resolve each
// distinct policy once per page, and every tile still gets its own
// policy's answer: the app under IBM's policy asks for MFA from a new
// location, the app under a deny-all policy is refused with its Launch
// disabled, and the apps without a policy of their own meet the portal's
// (here, one that refuses the developers group) — and the same page again
// (drawn from the caches) says the same.
func TestDashboardBadgesFollowEachAppsOwnPolicy(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	ctx := context.Background()
	svc := &policyeditor.Service{Store: lp.Store}
	actor := store.Actor{Label: "test"}
	newApp := func(id, name string) {
		t.Helper()
		c := store.Client{OrgID: lp.org.ID, ClientID: id, Name: name, Type: store.ClientWeb,
			RedirectURIs: []string{"https://" + id + ".acme.example/cb"}, LaunchURL: "https://" + id + ".acme.example/", Enabled: true,
			TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
		if err := lp.Store.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	policy := func(doc string) string {
		t.Helper()
		s, err := svc.Import(ctx, actor, []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return s.Policy.ID
	}
	newApp("vault", "Vault")
	newApp("notes", "Notes")
	newApp("crm", "CRM")
	closed := policy(`{"name":"Closed","kind":"user_access","rules":[],"default":"deny"}`)
	if err := svc.Attach(ctx, actor, closed, policyeditor.Target{ClientID: "vault"}); err != nil {
		t.Fatal(err)
	}
	dev := lp.person(t, "dana@acme.example", "developers") // before the portal's policy, which signs in too
	noDevs := policy(`{"name":"No developers","kind":"user_access",
	  "rules":[{"name":"Not developers","conditions":[{"type":"group","any_of":["developers"]}],"action":"deny"}],"default":"permit"}`)
	if err := svc.Attach(ctx, actor, noDevs, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		badge    string
		disabled bool
	}{
		"wiki":  {"MFA required", false},
		"vault": {"Not available to you", true},
		"notes": {"Not available for your group", true},
		"crm":   {"Not available for your group", true},
	}
	for round := range 2 {
		r := from(t, dev, http.MethodGet, lp.URL+"/", "198.51.100.7", nil)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("dashboard: %d", r.StatusCode)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		for id, w := range want {
			tile := doc.Find(`.tile[data-client-id="` + id + `"]`)
			if got := strings.TrimSpace(tile.Find(".badge").Text()); got != w.badge {
				t.Errorf("round %d, %s: badge %q, want %q", round, id, got, w.badge)
			}
			_, disabled := tile.Find("#launch-" + id).Attr("disabled")
			if disabled != w.disabled {
				t.Errorf("round %d, %s: Launch disabled %v, want %v", round, id, disabled, w.disabled)
			}
		}
	}
}

// TestPlatformOverviewFollowsChanges: the platform overview is kept drawn
// between dashboards, but a change that moves the data version (here an
// organization's partnership now ending within 30 days) shows on the next
// one, and the injected clock moving on draws it again.
func TestPlatformOverviewFollowsChanges(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.as(t, platformAdmin)
	section := func() string {
		t.Helper()
		r := admin.Get("/")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("dashboard: %d", r.StatusCode)
		}
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
		return doc.Find("#ending-soon").Text()
	}
	if got := section(); strings.Contains(got, "Org soon") {
		t.Fatalf("before: %q", got)
	}
	o := store.Organization{Slug: "soon", Name: "Org soon", ValidUntil: w.clock.Now().Add(9*24*time.Hour + 30*time.Minute)}
	if err := w.h.Store.CreateOrganization(ctx, &o); err != nil {
		t.Fatal(err)
	}
	if got := section(); !strings.Contains(got, "Org soon") || !strings.Contains(got, "in 10 days") {
		t.Fatalf("the next dashboard misses the new partnership: %q", got)
	}
	w.clock.Advance(time.Hour) // nothing committed: only the clock says the overview is old
	if got := section(); !strings.Contains(got, "in 9 days") {
		t.Fatalf("an hour later: %q", got)
	}
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/federation/pool"
	"portico/policyeditor"
	"portico/store"
	"portico/store/storetest"
)

// TestBrowserPolicyReplayAndReportOnly is issue 18's story in two real
// browsers, an admin's and a user's: people launch the wiki under IBM's
// example; the admin drafts a stricter version (contractors out) and its
// impact preview names exactly the contractor's logged launches, checked
// against the log; the admin saves it as a report-only version; more
// launches, which the two versions decide differently, show up as live
// disagreement counts on the policy page; promote enforces it.
func TestBrowserPolicyReplayAndReportOnly(t *testing.T) {
	admin := e2e.Browser(t)
	user := e2e.Browser(t)
	clk := &stepClock{}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><h1 id="app">Wiki</h1>`)
	}))
	t.Cleanup(app.Close)
	db := storetest.DSN(t)
	base, _ := startPortalAt(t, clk.Now, "--db", db, "--trusted-proxies", "127.0.0.1/32")

	bg := context.Background()
	st, err := store.Open(bg, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org := store.Organization{Slug: "acme", Name: "Acme", Domains: []string{"acme.example"}}
	if err := st.CreateOrganization(bg, &org); err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery staple"
	hash, _ := pool.HashPassword(password)
	office := netip.MustParsePrefix("198.51.100.0/24")
	ids := map[string]string{}
	for _, u := range []store.User{
		{Email: "dana@acme.example", Name: "Dana", Role: store.RoleDeveloper, LocalGroups: []string{"developers"}},
		{Email: "carl@acme.example", Name: "Carl", Role: store.RoleMember, LocalGroups: []string{"contractors"}},
		{Email: "root@acme.example", Name: "Root", Role: store.RoleAdmin},
	} {
		u.OrgID, u.PasswordHash = org.ID, hash
		if err := st.CreateUser(bg, &u); err != nil {
			t.Fatal(err)
		}
		ids[u.Email] = u.ID
		// The office is remembered: launches from it are decided by rule 2.
		if err := st.RememberLocation(bg, u.ID, office, "US", clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.UpdateUser(bg, org.ID, ids["root@acme.example"], func(u *store.User) error { u.PlatformAdmin = true; return nil }); err != nil {
		t.Fatal(err)
	}
	wiki := store.Client{OrgID: org.ID, ClientID: "wiki", Name: "Team wiki", Type: store.ClientWeb,
		RedirectURIs: []string{app.URL + "/callback"}, LaunchURL: app.URL + "/launch", Enabled: true,
		TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := st.CreateClient(bg, &wiki); err != nil {
		t.Fatal(err)
	}
	svc := &policyeditor.Service{Store: st}
	saved, err := svc.Import(bg, store.Actor{Label: "test"}, []byte(ibmPolicyJSON))
	if err != nil {
		t.Fatal(err)
	}
	pid := saved.Policy.ID
	if err := svc.Attach(bg, store.Actor{Label: "test"}, pid, policyeditor.Target{ClientID: "wiki"}); err != nil {
		t.Fatal(err)
	}

	signIn := func(ctx context.Context, email string) {
		e2e.Do(t, ctx,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email),
			chromedp.Click(chromedp.CSS("#continue")),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#sign-in")),
			chromedp.WaitVisible(chromedp.CSS("#welcome")),
		)
	}
	signOut := func(ctx context.Context) {
		e2e.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS("header form button")),
			chromedp.WaitVisible(chromedp.CSS("#continue")))
	}
	// launch opens the wiki from the dashboard; true when let in.
	launch := func() bool {
		clk.advance(time.Second)
		e2e.Do(t, user,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#launch-wiki")),
		)
		// Where the policy would deny, the tile's Launch button is disabled;
		// the launch URL itself still decides (and logs) the denial.
		if off, _ := chromedp.Run(user, chromedp.Evaluate[bool](`document.getElementById("launch-wiki").disabled === true`)); off {
			e2e.Do(t, user, chromedp.Navigate(base+"/launch/wiki"))
		} else {
			e2e.Do(t, user, chromedp.Click(chromedp.CSS("#launch-wiki")))
		}
		e2e.Do(t, user, chromedp.WaitVisible(chromedp.CSS("#app, #step-up, #launch-denied")))
		return strings.HasPrefix(e2e.Location(t, user), app.URL+"/launch")
	}
	launchesAs := func(email string, n int, wantIn bool) {
		signIn(user, email)
		for i := 0; i < n; i++ {
			if in := launch(); in != wantIn {
				t.Fatalf("%s launch %d: let in %v, want %v", email, i+1, in, wantIn)
			}
		}
		signOut(user)
	}
	// logged waits for the recorder's batch and returns the wiki's launches.
	logged := func(n int) []store.Decision {
		for deadline := time.Now().Add(5 * time.Second); ; {
			ds, err := st.Decisions(bg, store.DecisionFilter{ClientID: "wiki", Point: "launch", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) >= n || time.Now().After(deadline) {
				if len(ds) != n {
					t.Fatalf("%d launches logged, want %d", len(ds), n)
				}
				return ds
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	e2e.FromAddress(t, user, "198.51.100.7")
	e2e.FromAddress(t, admin, "198.51.100.8")
	launchesAs("dana@acme.example", 2, true)
	launchesAs("carl@acme.example", 2, true)
	ds := logged(4)
	var wantDenied []string
	for _, d := range ds {
		if d.Action != "permit" || d.Rule != 2 || d.PolicyID != pid {
			t.Fatalf("launch decided %+v", d)
		}
		if d.Subject == "carl@acme.example" {
			wantDenied = append(wantDenied, d.ID)
		}
	}

	// The admin drafts contractors out and previews the impact.
	signIn(admin, "root@acme.example")
	e2e.Do(t, admin,
		chromedp.Navigate(base+"/admin/policies/"+pid),
		chromedp.WaitVisible(chromedp.CSS(`input[name="r1.c0.values"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name="r1.c0.values"]`), "developers"),
		chromedp.Click(chromedp.CSS("#replay-draft")),
		chromedp.WaitVisible(chromedp.CSS("#replay-result")),
	)
	if got := e2e.Text(t, admin, "#replay-changed"); got != "2" {
		t.Fatalf("preview: %q would change, want 2", got)
	}
	if got := e2e.Text(t, admin, "#replay-replayed"); got != "4" {
		t.Fatalf("preview replayed %q decisions, want 4", got)
	}
	gotDenied, err := chromedp.Run(admin, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('tr.replay-sample[data-to="deny"]')).map(e => e.dataset.decision)`))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(gotDenied)
	slices.Sort(wantDenied)
	if !slices.Equal(gotDenied, wantDenied) {
		t.Fatalf("preview says these launches would be denied: %v; the log's contractor launches are %v", gotDenied, wantDenied)
	}
	e2e.Screenshot(t, admin, screenshotPath(t, "policy-replay.png"))

	// A sample opens in the simulator, which runs the draft on its request.
	e2e.Do(t, admin,
		chromedp.Click(chromedp.CSS(`tr.replay-sample[data-to="deny"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#sim-action")),
	)
	if got := e2e.Text(t, admin, "#sim-action"); got != "deny" {
		t.Fatalf("the sample in the simulator: %q", got)
	}
	if v, _ := chromedp.Run(admin, chromedp.Evaluate[string](`document.querySelector('input[name="sim.groups"]').value`)); v != "contractors" {
		t.Fatalf("simulator groups: %q", v)
	}

	// Report-only: saved beside the enforced version.
	e2e.Do(t, admin,
		chromedp.Click(chromedp.CSS("#save-shadow")),
		chromedp.WaitVisible(chromedp.CSS("#shadow-of")),
	)
	if got := e2e.Text(t, admin, "#shadow-of"); got != "2" {
		t.Fatalf("report-only version %q", got)
	}
	if p, _ := st.Policy(bg, pid); p.CurrentVersion != 1 || p.ShadowVersion != 2 {
		t.Fatalf("after report-only save: %+v", p)
	}

	// Launches the two versions decide differently (the contractor's, still
	// let in) and one they agree on; the admin's page counts them live.
	launchesAs("carl@acme.example", 2, true)
	launchesAs("dana@acme.example", 1, true)
	logged(7)
	for deadline := time.Now().Add(15 * time.Second); ; {
		if e2e.Text(t, admin, "#shadow-disagreed") == "2" && e2e.Text(t, admin, "#shadow-total") == "3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disagreements on the policy page: %q of %q, want 2 of 3",
				e2e.Text(t, admin, "#shadow-disagreed"), e2e.Text(t, admin, "#shadow-total"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := e2e.Text(t, admin, "#shadow-cells tbody"); !strings.Contains(got, "permit") || !strings.Contains(got, "deny") {
		t.Fatalf("disagreement cells: %q", got)
	}
	if got := e2e.Text(t, admin, "#shadow-where tbody"); !strings.Contains(got, "wiki") || !strings.Contains(got, "launch") {
		t.Fatalf("disagreements by place: %q", got)
	}
	e2e.Screenshot(t, admin, screenshotPath(t, "policy-report-only.png"))

	// Promote: one click, audited; the contractor is now refused.
	e2e.Do(t, admin,
		chromedp.Click(chromedp.CSS("#promote-shadow")),
		chromedp.WaitVisible(chromedp.CSS("#no-shadow")),
	)
	if p, _ := st.Policy(bg, pid); p.CurrentVersion != 2 || p.ShadowVersion != 0 {
		t.Fatalf("after promote: %+v", p)
	}
	evs, err := st.AuditEvents(bg, store.AuditFilter{Limit: 20})
	promoted := false
	for _, e := range evs {
		promoted = promoted || (e.Action == "policy.promote" && e.TargetID == pid && e.ActorID == ids["root@acme.example"])
	}
	if err != nil || !promoted {
		t.Fatalf("no audit event for the promote: %v", err)
	}
	launchesAs("carl@acme.example", 1, false)
}

package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/federation/pool"
	"portico/policyeditor"
	"portico/store"
	"portico/store/storetest"
)

// stepClock is the portal's clock in a browser test: real time plus a
// shift the test adds to, so successive step-ups use different TOTP steps.
type stepClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.shift)
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shift += d
}

// TestBrowserIBMExampleEndToEnd plays DESIGN.md's example in a real browser,
// with a trusted proxy header placing the browser on one network or another:
// a developer is challenged on first launch from the office, enrols TOTP and
// lands on the app; launches again from the office without a challenge; is
// challenged from a new network; is let in again on returning to a
// remembered one; a user in neither group is denied even after passing MFA,
// and the denial's reference finds the recorded decision.
func TestBrowserIBMExampleEndToEnd(t *testing.T) {
	ctx := e2e.Browser(t)
	clk := &stepClock{}

	// The app: its launch URL shows what the portal sent it.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><h1 id="app">Wiki</h1><p id="iss">%s</p><p id="hint">%s</p>`,
			html.EscapeString(r.URL.Query().Get("iss")), html.EscapeString(r.URL.Query().Get("login_hint")))
	}))
	t.Cleanup(app.Close)

	db := storetest.DSN(t)
	base, _ := startPortalAt(t, clk.Now, "--db", db, "--trusted-proxies", "127.0.0.1/32")

	// Seed through a second connection, as the CLI would while the server runs.
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
	for _, u := range []store.User{
		{Email: "dana@acme.example", Name: "Dana", Role: store.RoleDeveloper, LocalGroups: []string{"developers"}},
		{Email: "sam@acme.example", Name: "Sam", Role: store.RoleMember, LocalGroups: []string{"sales"}},
	} {
		u.OrgID, u.PasswordHash = org.ID, hash
		if err := st.CreateUser(bg, &u); err != nil {
			t.Fatal(err)
		}
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
	if err := svc.Attach(bg, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: "wiki"}); err != nil {
		t.Fatal(err)
	}

	const office, cafe = "198.51.100.7", "203.0.113.50"
	secret := ""
	signIn := func(email string) {
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
	// launch clicks the tile from ip; when challenged it passes step-up
	// (enrolling first if needed). It reports whether it was challenged.
	launch := func(ip string) (challenged bool) {
		clk.advance(time.Minute)
		e2e.FromAddress(t, ctx, ip)
		e2e.Do(t, ctx,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#launch-wiki")),
			chromedp.Click(chromedp.CSS("#launch-wiki")),
			chromedp.WaitVisible(chromedp.CSS("#app, #step-up, #launch-denied")),
		)
		if !strings.Contains(e2e.Location(t, ctx), "/verify") {
			return false
		}
		if s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("totp-secret")||{}).textContent||""`)); err == nil && s != "" {
			secret = s // enrolment on the spot: read the key as a person would type it into their app
		}
		code, err := pool.TOTPCode(secret, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		// Enrolling on the spot asks for the password again unless the
		// sign-in was within the minute.
		if ask, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("reauth-password") !== null`)); ask {
			e2e.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#reauth-password"), password))
		}
		e2e.Do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#code"), code),
			chromedp.Click(chromedp.CSS("#verify")),
			chromedp.WaitVisible(chromedp.CSS("#app, #continue-launch, #launch-denied")),
		)
		// After an on-the-spot enrolment the recovery codes come first, then on.
		if more, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("continue-launch") !== null`)); more {
			e2e.Do(t, ctx, chromedp.Click(chromedp.CSS("#continue-launch")), chromedp.WaitVisible(chromedp.CSS("#app")))
		}
		return true
	}
	inApp := func() bool { return strings.HasPrefix(e2e.Location(t, ctx), app.URL+"/launch") }

	e2e.FromAddress(t, ctx, office)
	signIn("dana@acme.example")
	if badge := e2e.Text(t, ctx, "#apps .badge"); !strings.Contains(badge, "MFA required") {
		t.Fatalf("badge before the first launch: %q", badge)
	}
	e2e.Screenshot(t, ctx, screenshotPath(t, "screenshot.png")) // the README's picture
	if !launch(office) || !inApp() {
		t.Fatal("developer, first launch from the office: not challenged, or not in the app")
	}
	if got := e2e.Text(t, ctx, "#iss"); got != base {
		t.Fatalf("third-party initiated login sent iss=%q", got)
	}
	if launch("198.51.100.23") || !inApp() {
		t.Fatal("developer back at the office was challenged again")
	}
	if !launch(cafe) || !inApp() {
		t.Fatal("developer at a new network was not challenged")
	}
	if launch(office) || !inApp() {
		t.Fatal("developer returning to a remembered network was challenged")
	}

	e2e.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS("header form button")),
		chromedp.WaitVisible(chromedp.CSS("#continue")))
	secret = ""
	signIn("sam@acme.example")
	// The policy would deny sam even after step-up: the tile says why and
	// offers no launch.
	if badge := e2e.Text(t, ctx, "#apps .badge"); !strings.Contains(badge, "Not available for your group") {
		t.Errorf("sam's badge: %q", badge)
	}
	if disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("launch-wiki").disabled === true`)); err != nil || !disabled {
		t.Errorf("sam's Launch button is not disabled (%v)", err)
	}
	// Going to the launch URL anyway: denied at once, without being made
	// to set up an authenticator only to be refused.
	clk.advance(time.Minute)
	e2e.FromAddress(t, ctx, office)
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/launch/wiki"),
		chromedp.WaitVisible(chromedp.CSS("#app, #step-up, #launch-denied")),
	)
	if strings.Contains(e2e.Location(t, ctx), "/verify") || inApp() {
		t.Fatal("a user in neither group was challenged (MFA only to be refused), or was let in")
	}
	ref := e2e.Text(t, ctx, "#decision-ref")
	st.Now = clk.Now
	var d store.Decision
	for i := 0; i < 50; i++ { // decisions are written in batches
		if d, err = st.Decision(bg, org.ID, ref); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || d.Action != "deny" || d.ClientID != "wiki" {
		t.Fatalf("decision %s: %v %+v", ref, err, d)
	}
	if locs, _ := st.Locations(bg, d.UserID); len(locs) != 0 {
		t.Fatalf("sam, never stepped up, has remembered locations: %v", locs)
	}
}

// ibmPolicyJSON is DESIGN.md's example, as written.
const ibmPolicyJSON = `{"name":"Development portal access","description":"IBM's example","kind":"user_access",
  "rules":[{"name":"New location needs MFA","conditions":[{"type":"location","new":true}],"action":"challenge"},
           {"name":"Developers and contractors","conditions":[{"type":"group","any_of":["contractors","developers"]}],"action":"permit"}],
  "default":"deny"}`

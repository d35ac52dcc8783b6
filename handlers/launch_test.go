package handlers_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portico/federation/builtin"
	"portico/federation/pool"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/policyeditor"
	"portico/store"
)

// ibmPolicy is DESIGN.md's example, as written.
const ibmPolicy = `{"name":"Development portal access","description":"IBM's example","kind":"user_access",
  "rules":[{"name":"New location needs MFA","conditions":[{"type":"location","new":true}],"action":"challenge"},
           {"name":"Developers and contractors","conditions":[{"type":"group","any_of":["contractors","developers"]}],"action":"permit"}],
  "default":"deny"}`

// launchPortal is a portal whose dashboard decides with the policy engine,
// behind a trusted proxy on 127.0.0.1.
type launchPortal struct {
	*handlerstest.Harness
	clock *clock
	rec   *policyeditor.Recorder
	app   store.Client
	org   store.Organization
}

func newLaunchPortal(t *testing.T, trusted string) *launchPortal {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	lp := &launchPortal{clock: clk}
	h := handlerstest.New(t, func(c *handlers.Config) {
		c.Now = clk.Now
		c.Store.Now = clk.Now
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(trusted)}
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry()}
		lp.rec = policyeditor.NewRecorder(c.Store, policyeditor.RecorderOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		c.Policies = policyeditor.NewEngine(c.Store, lp.rec)
		c.Locator = policyeditor.IPLocLocator{}
	})
	t.Cleanup(func() { lp.rec.Close() })
	lp.Harness = h
	ctx := context.Background()
	lp.org = h.Org(t, "acme", "acme.example")
	lp.app = store.Client{OrgID: lp.org.ID, ClientID: "wiki", Name: "Team wiki", Type: store.ClientWeb,
		RedirectURIs: []string{"https://wiki.acme.example/callback"}, LaunchURL: "https://wiki.acme.example/login",
		Enabled: true, TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := h.Store.CreateClient(ctx, &lp.app); err != nil {
		t.Fatal(err)
	}
	svc := &policyeditor.Service{Store: h.Store}
	saved, err := svc.Import(ctx, store.Actor{Label: "test"}, []byte(ibmPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: "wiki"}); err != nil {
		t.Fatal(err)
	}
	return lp
}

// person signs a user of the given group in and returns their browser.
func (lp *launchPortal) person(t *testing.T, email, group string) *handlerstest.Client {
	hash, _ := pool.HashPassword(pw)
	u := store.User{OrgID: lp.org.ID, Email: email, Name: email, Role: store.RoleMember, LocalGroups: []string{group}, PasswordHash: hash}
	if err := lp.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	c := lp.Client(t)
	c.Login(email, pw)
	return c
}

// from sends a request as if it came through the proxy from ip.
func from(t *testing.T, c *handlerstest.Client, method, target, ip string, form url.Values) handlerstest.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("_csrf", c.CSRF())
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return handlerstest.Response{Response: resp, Body: string(b)}
}

var totpSecretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// launch opens the wiki from ip, passing step-up with the authenticator when
// challenged. It returns what the browser ends on and whether it was asked
// for a second factor.
func (lp *launchPortal) launch(t *testing.T, c *handlerstest.Client, ip string, secrets map[*handlerstest.Client]string) (handlerstest.Response, bool) {
	t.Helper()
	lp.clock.Advance(time.Minute) // successive step-ups use different TOTP steps
	r := from(t, c, http.MethodGet, lp.URL+"/launch/wiki", ip, nil)
	if r.StatusCode != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "/verify") {
		return r, false
	}
	page := from(t, c, http.MethodGet, lp.URL+"/launch/wiki/verify", ip, nil)
	if m := totpSecretRE.FindStringSubmatch(page.Body); m != nil {
		secrets[c] = m[1] // enrolled on the spot
	}
	code, err := pool.TOTPCode(secrets[c], lp.clock.Now())
	if err != nil {
		t.Fatalf("no authenticator for this person: %v\n%s", err, page.Body)
	}
	// The password goes along: enrolling on the spot needs it again.
	return from(t, c, http.MethodPost, lp.URL+"/launch/wiki/verify", ip, url.Values{"code": {code}, "password": {pw}}), true
}

// landed reports whether the response sends the browser into the app with
// the third-party initiated login parameters.
func (lp *launchPortal) landed(r handlerstest.Response) bool {
	target := r.Header.Get("Location")
	if r.StatusCode == http.StatusOK { // recovery codes after enrolment, with a link on
		if m := regexp.MustCompile(`href="([^"]+)" id="continue-launch"`).FindStringSubmatch(r.Body); m != nil {
			target = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	u, err := url.Parse(target)
	return err == nil && u.Host == "wiki.acme.example" && u.Query().Get("iss") == lp.Config.Issuer &&
		u.Query().Get("target_link_uri") == "https://wiki.acme.example/login"
}

func TestLaunchPlaysOutIBMsExample(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	secrets := map[*handlerstest.Client]string{}
	const office, cafe = "198.51.100.7", "203.0.113.50"

	dev := lp.person(t, "dana@acme.example", "developers")
	r, challenged := lp.launch(t, dev, office, secrets)
	if !challenged || !lp.landed(r) {
		t.Fatalf("developer, first launch from the office: challenged=%v %d %s", challenged, r.StatusCode, r.Header.Get("Location"))
	}
	if r, challenged = lp.launch(t, dev, "198.51.100.200", secrets); challenged || !lp.landed(r) {
		t.Fatalf("developer back at the office (same /24): challenged=%v %d", challenged, r.StatusCode)
	}
	if r, challenged = lp.launch(t, dev, cafe, secrets); !challenged || !lp.landed(r) {
		t.Fatalf("developer at a new network: challenged=%v %d", challenged, r.StatusCode)
	}
	if r, challenged = lp.launch(t, dev, office, secrets); challenged || !lp.landed(r) {
		t.Fatalf("developer returning to a remembered network: challenged=%v", challenged)
	}

	carl := lp.person(t, "carl@acme.example", "contractors")
	if r, challenged = lp.launch(t, carl, cafe, secrets); !challenged || !lp.landed(r) {
		t.Fatalf("contractor at a new location: challenged=%v", challenged)
	}
	if r, challenged = lp.launch(t, carl, cafe, secrets); challenged || !lp.landed(r) {
		t.Fatalf("contractor at a remembered location: challenged=%v", challenged)
	}

	// In neither group: the policy would deny even after step-up, so the
	// launch is denied at once, without making sam enrol an authenticator
	// only to be refused.
	sam := lp.person(t, "sam@acme.example", "sales")
	r, challenged = lp.launch(t, sam, office, secrets)
	if challenged || r.StatusCode != http.StatusForbidden || lp.landed(r) {
		t.Fatalf("user in neither group: challenged=%v %d", challenged, r.StatusCode)
	}
	if r := from(t, sam, http.MethodGet, lp.URL+"/launch/wiki/verify", office, nil); r.StatusCode != http.StatusForbidden ||
		strings.Contains(r.Body, "totp-secret") {
		t.Fatalf("the step-up page offers a user who will be denied an enrolment: %d", r.StatusCode)
	}
	samUsers, _ := lp.Store.UsersByEmail(context.Background(), "sam@acme.example")
	if _, err := lp.Store.UserTOTP(context.Background(), samUsers[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an authenticator secret was made for a user the policy denies: %v", err)
	}
	ref := regexp.MustCompile(`id="decision-ref">([a-z0-9]+)<`).FindStringSubmatch(r.Body)
	if ref == nil || !strings.Contains(r.Body, "access policy does not allow") {
		t.Fatalf("deny page without a reference:\n%s", r.Body)
	}
	if err := lp.rec.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, err := lp.Store.Decision(context.Background(), lp.org.ID, ref[1])
	if err != nil || d.Action != "deny" || d.Point != "launch" || d.ClientID != "wiki" {
		t.Fatalf("the referenced decision: %v %+v", err, d)
	}
	if r, challenged = lp.launch(t, sam, office, secrets); challenged || r.StatusCode != http.StatusForbidden {
		t.Fatalf("user in neither group from a remembered network: challenged=%v %d", challenged, r.StatusCode)
	}
}

func TestSixthLocationEvictsTheLeastRecentlyUsed(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	secrets := map[*handlerstest.Client]string{}
	dev := lp.person(t, "dana@acme.example", "developers")
	for i := 1; i <= 6; i++ {
		if r, challenged := lp.launch(t, dev, fmt.Sprintf("198.51.%d.7", i), secrets); !challenged || !lp.landed(r) {
			t.Fatalf("network %d: challenged=%v %d", i, challenged, r.StatusCode)
		}
	}
	if _, challenged := lp.launch(t, dev, "198.51.6.9", secrets); challenged {
		t.Fatal("the newest network was forgotten")
	}
	if _, challenged := lp.launch(t, dev, "198.51.1.9", secrets); !challenged {
		t.Fatal("the least recently used network was kept as a sixth")
	}
}

func TestForwardedAddressFromAnUntrustedPeerIsIgnored(t *testing.T) {
	lp := newLaunchPortal(t, "10.0.0.0/8") // the test's peer, 127.0.0.1, is not a trusted proxy
	secrets := map[*handlerstest.Client]string{}
	dev := lp.person(t, "dana@acme.example", "developers")
	if _, challenged := lp.launch(t, dev, "198.51.100.7", secrets); !challenged {
		t.Fatal("first launch not challenged")
	}
	var users []store.User
	users, _ = lp.Store.UsersByEmail(context.Background(), "dana@acme.example")
	locs, _ := lp.Store.Locations(context.Background(), users[0].ID)
	if len(locs) != 1 || locs[0].Network != netip.MustParsePrefix("127.0.0.0/24") {
		t.Fatalf("remembered %v: the spoofed header was believed", locs)
	}
}

func TestDashboardShowsOnlyTheOrganizationsAppsWithPolicyBadges(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	other := lp.Org(t, "globex", "globex.example")
	foreign := store.Client{OrgID: other.ID, ClientID: "globex-crm", Name: "Globex CRM", Type: store.ClientWeb,
		RedirectURIs: []string{"https://crm.globex.example/cb"}, LaunchURL: "https://crm.globex.example/", Enabled: true,
		TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := lp.Store.CreateClient(context.Background(), &foreign); err != nil {
		t.Fatal(err)
	}
	dev := lp.person(t, "dana@acme.example", "developers")
	r := from(t, dev, http.MethodGet, lp.URL+"/", "198.51.100.7", nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Team wiki") || strings.Contains(r.Body, "Globex CRM") {
		t.Fatalf("%d\n%s", r.StatusCode, r.Body)
	}
	if !strings.Contains(r.Body, "MFA required") {
		t.Fatal("no step-up badge for a new location")
	}
	if r := from(t, dev, http.MethodGet, lp.URL+"/launch/globex-crm", "198.51.100.7", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("launching another organization's app: %d", r.StatusCode)
	}
	if err := lp.rec.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ds, _ := lp.Store.Decisions(context.Background(), store.DecisionFilter{OrgID: lp.org.ID}); len(ds) != 0 {
		t.Fatalf("dashboard previews were recorded as decisions: %v", ds)
	}
}

func TestSharedAppsAppearForTheOrganizationsTheyAreSharedWith(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	ctx := context.Background()
	platform := lp.Org(t, "platform")
	status := store.Client{OrgID: platform.ID, ClientID: "status", Name: "Status page", Type: store.ClientWeb,
		RedirectURIs: []string{"https://status.example/cb"}, LaunchURL: "https://status.example/", Enabled: true,
		TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := lp.Store.CreateClient(ctx, &status); err != nil {
		t.Fatal(err)
	}
	dev := lp.person(t, "dana@acme.example", "developers")
	if r := from(t, dev, http.MethodGet, lp.URL+"/", "198.51.100.7", nil); strings.Contains(r.Body, "Status page") {
		t.Fatal("an unshared app of another organization is on the dashboard")
	}
	if r := from(t, dev, http.MethodGet, lp.URL+"/launch/status", "198.51.100.7", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("launching an unshared app: %d", r.StatusCode)
	}
	if err := lp.Store.ShareClient(ctx, platform.ID, "status", ""); err != nil {
		t.Fatal(err)
	}
	if r := from(t, dev, http.MethodGet, lp.URL+"/", "198.51.100.7", nil); !strings.Contains(r.Body, "Status page") {
		t.Fatal("a shared app is missing from the dashboard")
	}
	r := from(t, dev, http.MethodGet, lp.URL+"/launch/status", "198.51.100.7", nil)
	if loc, _ := url.Parse(r.Header.Get("Location")); r.StatusCode != http.StatusSeeOther || loc.Host != "status.example" {
		t.Fatalf("launching a shared app with no policy: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestDashboardSeesAppChangesAtOnce: the dashboard's cached list of apps
// follows every change to them on the next page, here on this process's
// store as the CLI or another replica would make it.
func TestDashboardSeesAppChangesAtOnce(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	ctx := context.Background()
	dev := lp.person(t, "dana@acme.example", "developers")
	if r := from(t, dev, http.MethodGet, lp.URL+"/", "198.51.100.7", nil); !strings.Contains(r.Body, "Team wiki") ||
		strings.Contains(r.Body, "Release notes") {
		t.Fatalf("first page:\n%s", r.Body)
	}
	notes := store.Client{OrgID: lp.org.ID, ClientID: "notes", Name: "Release notes", Type: store.ClientWeb,
		RedirectURIs: []string{"https://notes.acme.example/cb"}, LaunchURL: "https://notes.acme.example/", Enabled: true,
		TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := lp.Store.CreateClient(ctx, &notes); err != nil {
		t.Fatal(err)
	}
	if r := from(t, dev, http.MethodGet, lp.URL+"/", "198.51.100.7", nil); !strings.Contains(r.Body, "Release notes") {
		t.Fatal("a new app is missing from the next dashboard")
	}
	if _, _, err := lp.Store.UpdateClient(ctx, lp.org.ID, notes.ID, func(c *store.Client) error { c.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := from(t, dev, http.MethodGet, lp.URL+"/", "198.51.100.7", nil); strings.Contains(r.Body, "Release notes") {
		t.Fatal("a disabled app is still on the next dashboard")
	}
}

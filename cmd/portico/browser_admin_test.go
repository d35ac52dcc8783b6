package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/federation/federationtest"
	"portico/federation/pool"
	"portico/store"
	"portico/store/storetest"
)

const adminJourneyPassword = "a long and private passphrase"

// seedPlatformAdmin creates the staff organization with its platform admin
// (and globex, which owns globex.example) straight in the database, as the
// first run would, so the journey starts at a platform with no partner.
func seedPlatformAdmin(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hash, _ := pool.HashPassword(adminJourneyPassword)
	staff := store.Organization{Slug: "staff", Name: "Staff", Domains: []string{"portico.example"}}
	globex := store.Organization{Slug: "globex", Name: "Globex", Domains: []string{"globex.example"}}
	for _, o := range []*store.Organization{&staff, &globex} {
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	root := store.User{OrgID: staff.ID, Email: "root@portico.example", Name: "Root", Role: store.RoleAdmin,
		PlatformAdmin: true, PasswordHash: hash, EmailVerified: true}
	if err := st.CreateUser(ctx, &root); err != nil {
		t.Fatal(err)
	}
}

// signInWithPassword signs in through the identifier-first page.
func signInWithPassword(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#password, #use-password")),
	)
	// An organization with a connection offers the password beside it
	// while some password account is not linked yet.
	if choose, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("use-password") !== null`)); choose {
		e2e.Do(t, ctx, chromedp.Click(chromedp.CSS("#use-password")), chromedp.WaitVisible(chromedp.CSS("#password")))
	}
	e2e.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)
}

// waitTrue polls a JavaScript condition for a few seconds.
func waitTrue(ctx context.Context, js string) bool {
	for range 100 {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func signOut(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	e2e.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS("header form button")),
		chromedp.WaitVisible(chromedp.CSS("#continue")))
}

// TestBrowserPlatformAdminOnboardsAPartner is the platform admin's journey
// without the command line: create the organization, invite its first
// member from the organization's page (an address of another
// organization's domain is refused, naming it), register an app for it,
// and the member accepts the invitation, signs in and launches the app.
func TestBrowserPlatformAdminOnboardsAPartner(t *testing.T) {
	ctx := e2e.Browser(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><h1 id="app">Acme wiki</h1><p id="hint">%s</p>`, html.EscapeString(r.URL.Query().Get("login_hint")))
	}))
	t.Cleanup(app.Close)
	db := storetest.DSN(t)
	seedPlatformAdmin(t, db)
	base, _ := startPortal(t, "--db", db)

	signInWithPassword(t, ctx, base, "root@portico.example", adminJourneyPassword)
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/admin/orgs"),
		chromedp.Click(chromedp.CSS("#new-org")),
		chromedp.WaitVisible(chromedp.CSS("#org-form")),
		chromedp.SendKeys(chromedp.CSS(`#org-form input[name="name"]`), "Acme"),
		chromedp.SendKeys(chromedp.CSS(`#org-form input[name="slug"]`), "acme"),
		chromedp.SendKeys(chromedp.CSS(`#org-form input[name="domains"]`), "acme.example"),
		chromedp.Click(chromedp.CSS("#save-org")),
		chromedp.WaitVisible(chromedp.CSS("#hub-members")),
	)
	if loc := e2e.Location(t, ctx); !strings.Contains(loc, "/admin/orgs/acme") {
		t.Fatalf("after creating the organization the browser is at %s, not its page", loc)
	}

	// Invite from the organization's page: the form is acme's, and the
	// role starts at the least privileged.
	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#hub-manage-members")),
		chromedp.WaitVisible(chromedp.CSS("#invite-email")),
	)
	if role, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("invite-role").value`)); err != nil || role != "member" {
		t.Errorf("the role picker starts at %q (%v), want member", role, err)
	}
	e2e.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "boss@globex.example"),
		chromedp.Click(chromedp.CSS("#send-invite")),
		chromedp.WaitVisible(chromedp.CSS("#err-email")),
	)
	if msg := e2e.Text(t, ctx, "#err-email"); !strings.Contains(msg, "Globex") && !strings.Contains(msg, "globex") {
		t.Errorf("inviting another organization's address says %q, not naming globex", msg)
	}
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/org/members?org=acme"),
		chromedp.WaitVisible(chromedp.CSS("#invite-email")),
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "mia@acme.example"),
		chromedp.Click(chromedp.CSS("#send-invite")),
		chromedp.WaitVisible(chromedp.CSS("#invite-link")),
	)
	link := e2e.Text(t, ctx, "#invite-link")
	if !strings.HasPrefix(link, base+"/invite/") {
		t.Fatalf("invitation link %q", link)
	}

	// Register an app for acme from its page.
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/admin/orgs/acme"),
		chromedp.Click(chromedp.CSS("#hub-new-app")),
		chromedp.WaitVisible(chromedp.CSS("#type-web")),
		chromedp.Click(chromedp.CSS("#type-web")),
		chromedp.WaitVisible(chromedp.CSS("#app-name")),
		chromedp.SendKeys(chromedp.CSS("#app-name"), "Acme wiki"),
		chromedp.SendKeys(chromedp.CSS("#app-redirects"), app.URL+"/callback"),
		chromedp.SendKeys(chromedp.CSS(`input[name="launch_url"]`), app.URL+"/launch"),
		chromedp.Click(chromedp.CSS("#register-app")),
		chromedp.WaitVisible(chromedp.CSS("#client-id")),
	)
	clientID := e2e.Text(t, ctx, "#client-id")
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/admin/orgs/acme"),
		chromedp.WaitVisible(chromedp.CSS("#hub-app-list")),
	)
	if got := e2e.Text(t, ctx, "#hub-app-list"); !strings.Contains(got, "Acme wiki") {
		t.Errorf("acme's page lists apps %q", got)
	}
	if got := e2e.Text(t, ctx, "#hub-invitation-list"); !strings.Contains(got, "mia@acme.example") {
		t.Errorf("acme's page lists invitations %q", got)
	}
	// The app's page works for the platform admin from there.
	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#hub-app-list a[href^="/apps/`+clientID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#app-form")),
	)
	signOut(t, ctx, base)

	// The member's side: accept, sign in, launch.
	const password = "mia's own long passphrase"
	e2e.Do(t, ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#accept-name")),
		chromedp.SendKeys(chromedp.CSS("#accept-name"), "Mia Member"),
		chromedp.SendKeys(chromedp.CSS("#accept-password"), password),
		chromedp.Click(chromedp.CSS("#accept")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	signInWithPassword(t, ctx, base, "mia@acme.example", password)
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#launch-"+clientID)),
		chromedp.Click(chromedp.CSS("#launch-"+clientID)),
		chromedp.WaitVisible(chromedp.CSS("#app")),
	)
	if loc := e2e.Location(t, ctx); !strings.HasPrefix(loc, app.URL+"/launch") {
		t.Fatalf("the launch ended at %s", loc)
	}
	if hint := e2e.Text(t, ctx, "#hint"); hint != "mia@acme.example" {
		t.Errorf("the app was told login_hint %q", hint)
	}
}

// TestBrowserPartnerAdminManagesGroupsAndAConnection is the partner admin's
// journey: define a group and add and remove a member; add a sign-in
// connection (the form says who it affects), test it; a password member
// keeps their password until they sign in through the connection, which
// links them and brings their identity provider's groups, shown
// read-only; then delete the connection behind a confirmation.
func TestBrowserPartnerAdminManagesGroupsAndAConnection(t *testing.T) {
	ctx := e2e.Browser(t)
	op := federationtest.NewOP(t, "portico-acme", "acme-upstream-secret", federationtest.Claims{
		Subject: "okta-mia", Email: "mia@acme.example", EmailVerified: true, Name: "Mia", Groups: []string{"engineers"}})
	db := storetest.DSN(t)
	bg := context.Background()
	st, err := store.Open(bg, db)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := pool.HashPassword(adminJourneyPassword)
	acme := store.Organization{Slug: "acme", Name: "Acme", Domains: []string{"acme.example"}}
	if err := st.CreateOrganization(bg, &acme); err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{
		{Email: "ada@acme.example", Name: "Ada", Role: store.RoleAdmin},
		{Email: "mia@acme.example", Name: "Mia", Role: store.RoleMember},
	} {
		u.OrgID, u.PasswordHash, u.EmailVerified = acme.ID, hash, true
		if err := st.CreateUser(bg, &u); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	base, _ := startPortal(t, "--db", db, "--upstream-allow", "127.0.0.1/32")

	signInWithPassword(t, ctx, base, "ada@acme.example", adminJourneyPassword)
	// A group, a member added and removed.
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/org/groups"),
		chromedp.WaitVisible(chromedp.CSS("#group-name")),
		chromedp.SendKeys(chromedp.CSS("#group-name"), "contractors"),
		chromedp.Click(chromedp.CSS("#create-group")),
		chromedp.WaitVisible(chromedp.CSS(`#groups tr[data-name="contractors"] a`)),
		chromedp.Click(chromedp.CSS(`#groups tr[data-name="contractors"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#member-email")),
		chromedp.SendKeys(chromedp.CSS("#member-email"), "mia@acme.example"),
		chromedp.Click(chromedp.CSS("#add-member")),
		chromedp.WaitVisible(chromedp.CSS(`#group-members tr[data-email="mia@acme.example"]`)),
		chromedp.Click(chromedp.CSS(`#group-members tr[data-email="mia@acme.example"] button`)),
	)
	if !waitTrue(ctx, `location.search.includes("done=removed") && document.querySelectorAll("#group-members tbody tr").length === 0`) {
		t.Error("after removing, the group still lists the member")
	}

	// A connection: the form says who it affects before anything is saved.
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/connections"),
		chromedp.WaitVisible(chromedp.CSS("#new-type")),
		chromedp.SetValue(chromedp.CSS("#new-type"), "oidc"),
		chromedp.Click(chromedp.CSS("#add-connection")),
		chromedp.WaitVisible(chromedp.CSS("#connection-affects")),
	)
	if n := e2e.Text(t, ctx, "#password-users"); n != "2" {
		t.Errorf("the new-connection form says %q password accounts are affected, want 2", n)
	}
	e2e.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#name"), "Acme Okta"),
		chromedp.SendKeys(chromedp.CSS("#s_issuer"), op.URL),
		chromedp.SendKeys(chromedp.CSS("#s_client_id"), op.ClientID),
		chromedp.SendKeys(chromedp.CSS("#secret"), op.ClientSecret),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#test")),
	)
	connURL := e2e.Location(t, ctx)
	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#test")),
		chromedp.WaitVisible(chromedp.CSS("#test-result")),
	)
	if got := e2e.Text(t, ctx, "#test-result"); !strings.Contains(got, "loaded") {
		t.Fatalf("testing the connection says %q", got)
	}
	signOut(t, ctx, base)

	// Mia still has her password on offer beside the connection, and
	// chooses the connection: linked by verified email, with her IdP groups.
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "mia@acme.example"),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#use-password")),
		chromedp.Click(chromedp.CSS("button.choice[data-connection]")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)
	signOut(t, ctx, base)

	signInWithPassword(t, ctx, base, "ada@acme.example", adminJourneyPassword)
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/org/groups"),
		chromedp.WaitVisible(chromedp.CSS(`#groups tr[data-name="engineers"]`)),
	)
	if src := e2e.Text(t, ctx, `#groups tr[data-name="engineers"] .badge`); !strings.Contains(src, "read-only") {
		t.Errorf("the IdP group is shown as %q", src)
	}
	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#groups tr[data-name="engineers"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#group-members")),
	)
	if editable, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("add-member-form") !== null`)); editable {
		t.Error("an IdP group can be edited")
	}

	// Delete the connection: the page says what happens to Mia's link.
	e2e.Do(t, ctx,
		chromedp.Navigate(connURL),
		chromedp.WaitVisible(chromedp.CSS("#delete-impact")),
	)
	if got := e2e.Text(t, ctx, "#delete-impact"); !strings.Contains(got, "1 accounts are linked") {
		t.Errorf("the delete section says %q", got)
	}
	e2e.Do(t, ctx, chromedp.Click(chromedp.CSS("#confirm-delete-connection summary")))
	if !waitTrue(ctx, `document.getElementById("confirm-delete-connection").open`) {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("delete-connection").outerHTML`))
		t.Fatalf("the confirmation did not open:\n%s", html)
	}
	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#confirm-delete-connection button")),
		chromedp.WaitVisible(chromedp.CSS("#new-type")),
	)
	if got := e2e.Text(t, ctx, ".alert"); !strings.Contains(got, "deleted") {
		t.Errorf("after deleting: %q", got)
	}
}

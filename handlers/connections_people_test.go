package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/federation/federationtest"
	"portico/handlers"
	"portico/store"
)

// Adding a connection strands nobody: while password accounts are not yet
// linked, the sign-in page offers the password beside the connection, the
// connection form says how many people that is, and once every one is
// linked (first federated sign-in, verified email) the page sends people
// straight to the identity provider.
func TestANewConnectionKeepsPasswordSignInUntilLinked(t *testing.T) {
	p := newSignInPortal(t)
	ctx := context.Background()
	acme := p.Org(t, "acme", "acme.example")
	p.User(t, acme, "ada@acme.example", store.RoleAdmin, "a long enough password")
	op := federationtest.NewOP(t, "portico", "secret", federationtest.Claims{
		Subject: "u-1", Email: "ada@acme.example", EmailVerified: true, Name: "Ada"})
	x := p.connection(t, acme, "oidc", "Acme SSO", "secret", map[string]string{"issuer": op.URL, "client_id": "portico"})

	admin := p.Client(t)
	r := admin.Post("/login", url.Values{"email": {"ada@acme.example"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="use-password"`) {
		t.Fatalf("an unlinked password account is not offered the password: %d", r.StatusCode)
	}
	// The offer is the organization's, not the address's: a made-up
	// address of acme gets the same page, so it tells nobody who exists.
	if r := p.Client(t).Post("/login", url.Values{"email": {"nobody@acme.example"}}); !strings.Contains(r.Body, `id="use-password"`) {
		t.Error("the offer depends on whether the address has an account")
	}
	r = admin.Post("/login", url.Values{"email": {"ada@acme.example"}, "use_password": {"1"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `name="password"`) {
		t.Fatalf("use_password: %d, no password field", r.StatusCode)
	}
	admin.Login("ada@acme.example", "a long enough password")
	form := admin.Get("/connections/" + x.ID)
	if n := htmlDoc(t, form.Body).Find("#password-users").Text(); n != "1" {
		t.Errorf("the form says %q people sign in with a password unlinked, want 1", n)
	}
	if !strings.Contains(form.Body, "confirms the email address") {
		t.Error("the form does not state the linking rule")
	}

	// Ada signs in through the connection once: linked by verified email.
	r2 := p.federatedSignIn(t, p.Client(t), "ada@acme.example")
	r2.Body.Close()
	if n, err := p.Store.UnlinkedPasswordUsers(ctx, acme.ID); err != nil || n != 0 {
		t.Fatalf("unlinked after the federated sign-in: %d %v", n, err)
	}
	if r := p.Client(t).Post("/login", url.Values{"email": {"ada@acme.example"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("with every account linked the page still asks: %d", r.StatusCode)
	}
	// Linked, her password is off: the identity provider decides now.
	r = p.Client(t).Post("/login", url.Values{"email": {"ada@acme.example"}, "password": {"a long enough password"}, "stage": {"password"}})
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("a linked account's password: %d, want 403", r.StatusCode)
	}
}

// Deleting a connection states what happens to the accounts linked through
// it, removes the links (the accounts stay) and is audited; another
// organization's admin cannot delete it.
func TestDeletingAConnection(t *testing.T) {
	p := newSignInPortal(t)
	ctx := context.Background()
	acme := p.Org(t, "acme", "acme.example")
	globex := p.Org(t, "globex", "globex.example")
	p.User(t, acme, "ada@acme.example", store.RoleAdmin, "a long enough password")
	p.User(t, globex, "gus@globex.example", store.RoleAdmin, "a long enough password")
	op := federationtest.NewOP(t, "portico", "secret", federationtest.Claims{
		Subject: "u-2", Email: "bea@acme.example", EmailVerified: true, Name: "Bea"})
	x := p.connection(t, acme, "oidc", "Acme SSO", "secret", map[string]string{"issuer": op.URL, "client_id": "portico"})
	r := p.federatedSignIn(t, p.Client(t), "bea@acme.example") // Bea is provisioned, with no password
	r.Body.Close()

	gus := p.Client(t)
	gus.Login("gus@globex.example", "a long enough password")
	if r := gus.Post("/connections/"+x.ID+"/delete", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("globex's admin deleting acme's connection: %d, want 404", r.StatusCode)
	}
	if r := gus.Post("/connections/"+x.ID+"/delete?org=acme", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("globex's admin naming acme: %d, want 404", r.StatusCode)
	}

	ada := p.Client(t)
	ada.Login("ada@acme.example", "a long enough password")
	page := htmlDoc(t, ada.Get("/connections/"+x.ID).Body)
	impact := page.Find("#delete-impact").Text()
	if !strings.Contains(impact, "1 accounts are linked") || !strings.Contains(impact, "1 of them have no password") {
		t.Errorf("the delete section says %q", strings.Join(strings.Fields(impact), " "))
	}
	if page.Find("details#confirm-delete-connection form").Length() != 1 {
		t.Error("deleting is not behind a confirmation")
	}
	if r := ada.Post("/connections/"+x.ID+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", r.StatusCode, pageError(r.Body))
	}
	if _, err := p.Store.Connection(ctx, acme.ID, x.ID); err == nil {
		t.Fatal("the connection is still stored")
	}
	if _, err := p.Store.UserByEmail(ctx, acme.ID, "bea@acme.example"); err != nil {
		t.Errorf("the linked account went with the connection: %v", err)
	}
	if _, err := p.Store.IdentityBySubject(ctx, acme.ID, x.ID, "u-2"); err == nil {
		t.Error("the link outlived the connection")
	}
	evs, _ := p.Store.AuditEvents(ctx, store.AuditFilter{OrgID: acme.ID})
	found := false
	for _, e := range evs {
		found = found || (e.Action == "connection.delete" && strings.Contains(string(e.After), `"identities_unlinked":1`))
	}
	if !found {
		t.Error("no connection.delete audit event with the count")
	}
}

// A yes/no setting is a checkbox, and unticking it stores "no".
func TestConnectionYesNoSettingIsACheckbox(t *testing.T) {
	w := newConnWorld(t)
	admin := w.as(t, "admin@acme.example")
	f := oidcForm("Acme SSO", "https://idp.acme.example", "s3cret")
	f.Set("s_trust_email", "on")
	r := admin.Post("/connections", f)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.StatusCode, pageError(r.Body))
	}
	loc := r.Header.Get("Location")
	box := htmlDoc(t, admin.Get(loc).Body).Find(`input[type=checkbox][name=s_trust_email]`)
	if _, checked := box.Attr("checked"); box.Length() != 1 || !checked {
		t.Fatalf("trust_email is not a ticked checkbox (%d found)", box.Length())
	}
	f.Del("s_trust_email")
	f.Del("secret")
	if r := admin.Post(loc, f); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.StatusCode)
	}
	x := w.stored(t, w.acme)[0]
	cfg, _ := w.svc.Registry.Decode(x.Type, x.Config)
	if got := cfg.Settings()["trust_email"]; got != "no" {
		t.Errorf("after unticking, trust_email is %q", got)
	}
}

// Forgetting the password follows the same rule as signing in with it: an
// account a connection has not linked yet gets a reset link; once linked,
// the identity provider decides and no link is sent.
func TestForgotPasswordFollowsTheConnectionLinkingRule(t *testing.T) {
	box := &noticeBox{}
	p := newSignInPortal(t, func(c *handlers.Config) { c.Mailer = box })
	acme := p.Org(t, "acme", "acme.example")
	p.User(t, acme, "ada@acme.example", store.RoleMember, "a long enough password")
	op := federationtest.NewOP(t, "portico", "secret", federationtest.Claims{
		Subject: "u-1", Email: "ada@acme.example", EmailVerified: true, Name: "Ada"})
	p.connection(t, acme, "oidc", "Acme SSO", "secret", map[string]string{"issuer": op.URL, "client_id": "portico"})

	forgot := func() {
		if r := p.Client(t).Post("/login/forgot", url.Values{"email": {"ada@acme.example"}}); r.StatusCode != http.StatusOK {
			t.Fatalf("forgot: %d", r.StatusCode)
		}
	}
	resets := func(wait time.Duration) int {
		n := 0
		for _, m := range box.to("ada@acme.example", wait) {
			if strings.Contains(m.Subject, "Reset") {
				n++
			}
		}
		return n
	}
	forgot()
	if n := resets(2 * time.Second); n != 1 {
		t.Fatalf("an unlinked password account got %d reset mails, want 1", n)
	}
	r := p.federatedSignIn(t, p.Client(t), "ada@acme.example")
	r.Body.Close()
	forgot()
	time.Sleep(500 * time.Millisecond) // the mail, were there one, goes out after the answer
	if n := resets(0); n != 1 {
		t.Fatalf("a linked account got another reset mail (%d in all)", n)
	}
}

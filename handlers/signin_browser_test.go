package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"portico/e2e"
	"portico/federation/federationtest"
	"portico/store"
)

// signInByEmail types the email on the identifier-first page and
// continues, as a person would.
func signInByEmail(base, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.Click(chromedp.CSS("#continue")),
	}
}

func userByEmail(t *testing.T, st *store.Store, org store.Organization, email string) store.User {
	t.Helper()
	u, err := st.UserByEmail(context.Background(), org.ID, email)
	if err != nil {
		t.Fatalf("%s was not provisioned: %v", email, err)
	}
	return u
}

// TestBrowserSignInThroughUpstreamOIDC: the browser leaves for a real OpenID
// provider on another loopback server and comes back signed in, provisioned
// into the connection's organization with the IdP's groups.
func TestBrowserSignInThroughUpstreamOIDC(t *testing.T) {
	ctx := e2e.Browser(t)
	p := newSignInPortal(t)
	acme := p.Org(t, "acme", "acme.example")
	op := federationtest.NewOP(t, "portico-acme", "acme-secret", federationtest.Claims{
		Subject: "kim-1", Email: "kim@acme.example", EmailVerified: true, Name: "Kim Upstream", Groups: []string{"engineering"}})
	p.connection(t, acme, "oidc", "Acme SSO", "acme-secret", map[string]string{"issuer": op.URL, "client_id": "portico-acme"})

	e2e.Do(t, ctx, signInByEmail(p.URL, "kim@acme.example")...)
	e2e.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#welcome")))
	if got := e2e.Text(t, ctx, "#welcome"); got != "Welcome, Kim Upstream" {
		t.Fatalf("welcome %q", got)
	}
	if who := e2e.Text(t, ctx, ".who span"); !strings.Contains(who, "Acme") {
		t.Fatalf("signed in as %q, not in Acme", who)
	}
	if loc := e2e.Location(t, ctx); !strings.HasPrefix(loc, p.URL+"/") {
		t.Fatalf("ended at %s", loc)
	}
	u := userByEmail(t, p.Store, acme, "kim@acme.example")
	if u.Role != store.RoleMember || strings.Join(u.IdPGroups, ",") != "engineering" || u.PasswordHash != "" {
		t.Fatalf("provisioned %+v", u)
	}
}

// TestBrowserSignInThroughSandbox: the sandbox IdP asks for its shared
// password on the portal's own form.
func TestBrowserSignInThroughSandbox(t *testing.T) {
	ctx := e2e.Browser(t)
	p := newSignInPortal(t)
	acme := p.Org(t, "acme", "acme.example")
	p.connection(t, acme, "sandbox", "Acme sandbox", "sandbox-pass",
		map[string]string{"users": "tess@acme.example | Tess Tester | qa, developers"})

	e2e.Do(t, ctx, signInByEmail(p.URL, "tess@acme.example")...)
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong password"),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	)
	if msg := e2e.Text(t, ctx, "#login-error"); !strings.Contains(msg, "incorrect") {
		t.Fatalf("wrong password: %q", msg)
	}
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), "sandbox-pass"),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)
	if got := e2e.Text(t, ctx, "#welcome"); got != "Welcome, Tess Tester" {
		t.Fatalf("welcome %q", got)
	}
	u := userByEmail(t, p.Store, acme, "tess@acme.example")
	if strings.Join(u.Groups(), ",") != "developers,qa" {
		t.Fatalf("groups %v", u.Groups())
	}
}

// TestBrowserTOTPEnrolmentAndSignIn: a pool user turns on two-step
// verification by scanning (here: reading) the key, signs out, and signs in
// again with a code from the app (here: pquerna/otp).
func TestBrowserTOTPEnrolmentAndSignIn(t *testing.T) {
	ctx := e2e.Browser(t)
	p := newSignInPortal(t)
	acme := p.Org(t, "acme", "acme.example")
	const password = "correct horse battery"
	u := p.User(t, acme, "ada@acme.example", store.RoleMember, password)

	e2e.Do(t, ctx, signInByEmail(p.URL, "ada@acme.example")...)
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
		chromedp.Navigate(p.URL+"/account/mfa"),
		chromedp.WaitVisible(chromedp.CSS("#qr")),
	)
	secret := e2e.Text(t, ctx, "#totp-secret")
	now := time.Now()
	code, err := totp.GenerateCode(secret, now)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	e2e.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
	)
	if got := e2e.Text(t, ctx, "#mfa-status"); !strings.Contains(got, "on") {
		t.Fatalf("status %q", got)
	}
	if tt, err := p.Store.UserTOTP(context.Background(), u.ID); err != nil || tt.ConfirmedAt.IsZero() {
		t.Fatalf("enrollment not confirmed: %+v %v", tt, err)
	}

	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS(".who button")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	e2e.Do(t, ctx, signInByEmail(p.URL, "ada@acme.example")...)
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#mfa-form #code")),
		// The enrolment code's step was used: a code that was just accepted
		// is refused.
		chromedp.SendKeys(chromedp.CSS("#mfa-form #code"), code),
		chromedp.Click(chromedp.CSS("#verify")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	)
	// The next step's code is within the one step of drift the portal
	// allows, and newer than the one used to enrol.
	next, err := totp.GenerateCode(secret, now.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#mfa-form #code")),
		chromedp.SendKeys(chromedp.CSS("#mfa-form #code"), next),
		chromedp.Click(chromedp.CSS("#verify")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)
	if who := e2e.Text(t, ctx, ".who span"); !strings.Contains(who, "Acme") {
		t.Fatalf("signed in as %q", who)
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/federation/pool"
	"portico/store"
)

// TestSandboxSignIn goes email → password form → session through the
// sandbox IdP, and checks the wrong password and another organization's
// connection are refused.
func TestSandboxSignIn(t *testing.T) {
	p := newSignInPortal(t)
	acme := p.Org(t, "acme", "acme.example")
	p.Org(t, "globex", "globex.example")
	x := p.connection(t, acme, "sandbox", "Acme sandbox", "sandbox-pass",
		map[string]string{"users": "tess@acme.example | Tess Tester | qa, developers | department=qa"})

	c := p.Client(t)
	r := c.Post("/login", url.Values{"email": {"tess@acme.example"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `name="connection" value="`+x.ID+`"`) {
		t.Fatalf("email step: %d\n%s", r.StatusCode, r.Body)
	}
	r = c.Post("/login", url.Values{"email": {"tess@acme.example"}, "stage": {"password"}, "connection": {x.ID}, "password": {"nope"}})
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	// A globex address cannot borrow acme's sandbox by naming it.
	r = c.Post("/login", url.Values{"email": {"tess@globex.example"}, "stage": {"password"}, "connection": {x.ID}, "password": {"sandbox-pass"}})
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("other org's connection: %d", r.StatusCode)
	}
	r = c.Post("/login", url.Values{"email": {"tess@acme.example"}, "stage": {"password"}, "connection": {x.ID}, "password": {"sandbox-pass"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password: %d %s", r.StatusCode, pageError(r.Body))
	}
	if got := whoAmI(t, c); got != "Tess Tester · Acme" {
		t.Errorf("signed in as %q", got)
	}
	u, err := p.Store.UserByEmail(context.Background(), acme.ID, "tess@acme.example")
	if err != nil || !slices.Equal(u.IdPGroups, []string{"developers", "qa"}) || u.Attributes["department"] != "qa" {
		t.Fatalf("provisioned %+v, %v", u, err)
	}
	// The admin typed the address; no mailbox was proven.
	if u.EmailVerified {
		t.Error("a sandbox user's email is stored as verified")
	}
}

// TestSandboxDoesNotTakeOverAnExistingAccount: an admin who adds a sandbox
// user with the address of an existing account (here another admin of the
// organization) cannot sign in as that account: the sandbox proves no
// mailbox, so it is not linked by email.
func TestSandboxDoesNotTakeOverAnExistingAccount(t *testing.T) {
	p := newSignInPortal(t)
	acme := p.Org(t, "acme", "acme.example")
	boss := p.User(t, acme, "boss@acme.example", store.RoleAdmin, "correct horse battery")
	x := p.connection(t, acme, "sandbox", "Acme sandbox", "sandbox-pass",
		map[string]string{"users": "boss@acme.example | Not The Boss"})
	c := p.Client(t)
	r := c.Post("/login", url.Values{"email": {"boss@acme.example"}, "stage": {"password"}, "connection": {x.ID}, "password": {"sandbox-pass"}})
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "did not confirm the address") {
		t.Fatalf("sandbox sign-in as an existing account: %d %s", r.StatusCode, pageError(r.Body))
	}
	if id, err := p.Store.IdentityBySubject(context.Background(), acme.ID, x.ID, "sandbox:boss@acme.example"); err == nil {
		t.Fatalf("the sandbox identity was linked to %s (the boss is %s)", id.UserID, boss.ID)
	}
}

// TestTOTPChallenge enrolls TOTP through the page, then signs in again: the
// password alone is not enough, a used code is refused, a fresh one works,
// and a recovery code works once.
func TestTOTPChallenge(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := newSignInPortal(t, func(c *handlersConfig) { c.Now = clock })
	acme := p.Org(t, "acme", "acme.example")
	p.User(t, acme, "ada@acme.example", store.RoleMember, "a long enough password")

	c := p.Client(t)
	c.Login("ada@acme.example", "a long enough password")
	r := c.Get("/account/mfa")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	secret := doc.Find("#totp-secret").Text()
	if qr, _ := doc.Find("#qr").Attr("src"); secret == "" || !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Fatalf("enrollment page lacks secret or QR:\n%s", r.Body)
	}
	code, _ := pool.TOTPCode(secret, now)
	r = c.Post("/account/mfa/confirm", url.Values{"code": {code}})
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	var recovery []string
	doc.Find("#recovery-codes code").Each(func(_ int, s *goquery.Selection) { recovery = append(recovery, s.Text()) })
	if r.StatusCode != http.StatusOK || len(recovery) != pool.RecoveryCodeCount {
		t.Fatalf("confirm: %d, %d recovery codes", r.StatusCode, len(recovery))
	}

	signIn := func() (*handlersClient, string) {
		b := p.Client(t)
		r := b.Post("/login", url.Values{"email": {"ada@acme.example"}, "stage": {"password"}, "password": {"a long enough password"}})
		loc := r.Header.Get("Location")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login/mfa?state=") {
			t.Fatalf("password step: %d → %q", r.StatusCode, loc)
		}
		if whoAmI(t, b) != "" {
			t.Fatal("signed in before the second factor")
		}
		st, _ := url.ParseQuery(strings.TrimPrefix(loc, "/login/mfa?"))
		return b, st.Get("state")
	}
	b, state := signIn()
	if r := b.Post("/login/mfa", url.Values{"state": {state}, "code": {code}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed enrollment code: %d", r.StatusCode)
	}
	now = now.Add(30 * time.Second)
	fresh, _ := pool.TOTPCode(secret, now)
	if r := b.Post("/login/mfa", url.Values{"state": {state}, "code": {fresh}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("fresh code: %d %s", r.StatusCode, pageError(r.Body))
	}
	if whoAmI(t, b) == "" {
		t.Fatal("not signed in after the second factor")
	}
	b2, state2 := signIn()
	if r := b2.Post("/login/mfa", url.Values{"state": {state2}, "code": {recovery[0]}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("recovery code: %d", r.StatusCode)
	}
	b3, state3 := signIn()
	if r := b3.Post("/login/mfa", url.Values{"state": {state3}, "code": {recovery[0]}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("recovery code twice: %d", r.StatusCode)
	}
}

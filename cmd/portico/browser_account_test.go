package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/federation/pool"
	"portico/partners/partnerstest"
	"portico/store"
	"portico/store/storetest"
)

var resetLinkInMail = regexp.MustCompile(`http\S+/login/reset\?token=\S+`)

// TestBrowserMemberResetsAForgottenPassword: a member who forgot their
// password asks for a link on the sign-in page, the mail reaches the test
// SMTP server, the link sets a new password once, and the member signs in
// with it and sees the reset and the sign-in in their history.
func TestBrowserMemberResetsAForgottenPassword(t *testing.T) {
	ctx := e2e.Browser(t)
	smtpAddr, mails := partnerstest.FakeSMTP(t)
	db := storetest.DSN(t)
	base, _ := startPortal(t, "--db", db, "--smtp-addr", smtpAddr, "--smtp-from", "Portico <portal@example.com>")

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
	hash, _ := pool.HashPassword("the password I forgot")
	u := store.User{OrgID: org.ID, Email: "mia@acme.example", Name: "Mia", Role: store.RoleMember, PasswordHash: hash}
	if err := st.CreateUser(bg, &u); err != nil {
		t.Fatal(err)
	}

	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "mia@acme.example"),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#forgot-password")),
		chromedp.Click(chromedp.CSS("#forgot-password")),
		chromedp.WaitVisible(chromedp.CSS("#forgot-form")),
	)
	// The address typed on the sign-in page is carried over.
	typed, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#email")))
	if err != nil || typed != "mia@acme.example" {
		t.Fatalf("the forgot form starts with %q (%v)", typed, err)
	}
	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#send-link")),
		chromedp.WaitVisible(chromedp.CSS("#forgot-sent")),
	)
	var msg string
	select {
	case msg = <-mails:
	case <-time.After(10 * time.Second):
		t.Fatal("no mail reached the SMTP server")
	}
	if !strings.Contains(msg, "To: <mia@acme.example>") {
		t.Fatalf("mail not addressed to mia:\n%s", msg)
	}
	link := resetLinkInMail.FindString(msg)
	if !strings.HasPrefix(link, base+"/login/reset?token=") {
		t.Fatalf("no reset link in the mail:\n%s", msg)
	}

	const fresh = "a password I will remember"
	e2e.Do(t, ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#reset-form")),
		chromedp.SendKeys(chromedp.CSS("#password"), fresh),
		chromedp.SendKeys(chromedp.CSS("#confirm"), fresh),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#login-notice")),
	)
	// The link works once.
	e2e.Do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main")))
	if body := e2e.Text(t, ctx, "main"); !strings.Contains(body, "expired or was already used") {
		t.Fatalf("a used link shows: %s", body)
	}

	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "mia@acme.example"),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), fresh),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
		chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(chromedp.CSS("#signin-history")),
	)
	if h := e2e.Text(t, ctx, "#signin-history"); !strings.Contains(h, "signed in") || !strings.Contains(h, "password") {
		t.Fatalf("sign-in history: %s", h)
	}
}

package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/partners"
	"portico/partners/partnerstest"
	"portico/store"
)

// lockedBuffer is a log destination the server's goroutines and the test
// can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mailPortal is a portal whose invitations go through mailer, with acme's
// admin signed in and the log captured.
func mailPortal(t *testing.T, mailer partners.Mailer) (*handlerstest.Harness, *handlerstest.Client, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	h := handlerstest.New(t, func(c *handlers.Config) {
		c.Mailer = mailer
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	acme := h.Org(t, "acme", "acme.example")
	h.User(t, acme, "ada@acme.example", store.RoleAdmin, oldPassword)
	admin := h.Client(t)
	admin.Login("ada@acme.example", oldPassword)
	return h, admin, logs
}

var mailedLinkRE = regexp.MustCompile(`https?://[^/\s]+(/invite/[A-Za-z0-9_-]+)`)

// TestInvitationIsMailedAndNotShownWhenSMTPIsConfigured: with a mailer the
// link reaches the invitee's inbox, works from there, and is not on the
// admin's page.
func TestInvitationIsMailedAndNotShownWhenSMTPIsConfigured(t *testing.T) {
	addr, got := partnerstest.FakeSMTP(t)
	h, admin, _ := mailPortal(t, &partners.SMTPMailer{Addr: addr, From: "Portico <portal@example.com>"})
	r := inviteShown(t, admin, admin.Post("/org/invitations", url.Values{"email": {"dev@partner.example"}, "role": {"developer"}, "ttl": {"24h"}}))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("invite: %d %s", r.StatusCode, pageError(r.Body))
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if doc.Find("#invite-mailed").Length() != 1 || !strings.Contains(doc.Find("#invite-mailed").Text(), "dev@partner.example") {
		t.Errorf("the page does not say the invitation was mailed:\n%s", doc.Find("main").Text())
	}
	if doc.Find("#invite-link").Length() != 0 || strings.Contains(r.Body, "/invite/") {
		t.Error("a mailed invitation's link is on the page as well")
	}
	var msg string
	select {
	case msg = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no message arrived")
	}
	if !strings.Contains(msg, "To: <dev@partner.example>") || !strings.Contains(msg, "Acme") {
		t.Errorf("message:\n%s", msg)
	}
	m := mailedLinkRE.FindStringSubmatch(msg)
	if m == nil || !strings.HasPrefix(m[0], h.URL+"/invite/") {
		t.Fatalf("no link under the portal's URL in the message:\n%s", msg)
	}
	if r := h.Client(t).Get(m[1]); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Join Acme") {
		t.Errorf("the mailed link: %d %s", r.StatusCode, pageError(r.Body))
	}
	// Accepting a link that went only to the mailbox proves the address.
	if !acceptInvitation(t, h, m[1], "dev@partner.example") {
		t.Error("an account made from a mailed link has an unverified email")
	}
}

// acceptInvitation accepts the invitation at path and reports whether the
// new account's email is stored as verified (what ID tokens and userinfo
// then say as email_verified).
func acceptInvitation(t *testing.T, h *handlerstest.Harness, path, email string) bool {
	t.Helper()
	if r := h.Client(t).Post(path, url.Values{"name": {"Dev"}, "password": {oldPassword}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", r.StatusCode, pageError(r.Body))
	}
	orgs, err := h.Store.Organizations(context.Background())
	if err != nil || len(orgs) == 0 {
		t.Fatal(err)
	}
	u, err := h.Store.UserByEmail(context.Background(), orgs[0].ID, email)
	if err != nil {
		t.Fatal(err)
	}
	return u.EmailVerified
}

// TestInvitationLinkIsShownWhenMailFails: the invitation still exists, the
// page says the mail failed and shows the link to pass on, and the cause
// goes to the log, not the page.
func TestInvitationLinkIsShownWhenMailFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens here now: connecting fails at once
	h, admin, logs := mailPortal(t, &partners.SMTPMailer{Addr: dead, From: "portal@example.com"})
	r := inviteShown(t, admin, admin.Post("/org/invitations", url.Values{"email": {"dev@partner.example"}, "role": {"member"}, "ttl": {"24h"}}))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("invite: %d %s", r.StatusCode, pageError(r.Body))
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if doc.Find("#invite-mail-failed").Length() != 1 || doc.Find("#invite-mailed").Length() != 0 {
		t.Errorf("the page does not say the mail failed:\n%s", doc.Find("main").Text())
	}
	m := inviteLinkRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no link to pass on:\n%s", r.Body)
	}
	if strings.Contains(r.Body, dead) || strings.Contains(r.Body, "connection refused") {
		t.Error("the mail error's details are on the page")
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q: the link could be cached", cc)
	}
	if !strings.Contains(logs.String(), "sending invitation failed") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
	if r := h.Client(t).Get(m[1]); r.StatusCode != http.StatusOK {
		t.Errorf("the shown link: %d", r.StatusCode)
	}
	// A link shown on screen and passed on proves nothing about the mailbox.
	if acceptInvitation(t, h, m[1], "dev@partner.example") {
		t.Error("an account made from a link shown on screen claims a verified email")
	}
}

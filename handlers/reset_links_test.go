package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/handlers"
	"portico/store"
)

// resetWorld is two partner organizations and the staff organization, with
// a settable clock for expiry.
type resetWorld struct {
	*signInPortal
	clock                          *clock
	acme, globex, staff            store.Organization
	acmeAdmin, ada, sso, acmeMem   store.User
	globexAdmin, platform, staffer store.User
}

const oldPassword = "correct horse battery"

func newResetWorld(t *testing.T) *resetWorld {
	t.Helper()
	w := &resetWorld{clock: newClock()}
	w.signInPortal = newSignInPortal(t, func(c *handlers.Config) { c.Now = w.clock.Now })
	h := w.Harness
	w.acme, w.globex, w.staff = h.Org(t, "acme", "acme.example"), h.Org(t, "globex", "globex.example"), h.Org(t, "staff")
	w.acmeAdmin = h.User(t, w.acme, "admin@acme.example", store.RoleAdmin, oldPassword)
	w.ada = h.User(t, w.acme, "ada@acme.example", store.RoleDeveloper, oldPassword)
	w.acmeMem = h.User(t, w.acme, "mem@acme.example", store.RoleMember, oldPassword)
	w.sso = store.User{OrgID: w.acme.ID, Email: "sso@acme.example", Name: "SSO", Role: store.RoleMember}
	if err := h.Store.CreateUser(context.Background(), &w.sso); err != nil {
		t.Fatal(err)
	}
	w.globexAdmin = h.User(t, w.globex, "admin@globex.example", store.RoleAdmin, oldPassword)
	w.platform = h.User(t, w.staff, "root@staff.example", store.RoleAdmin, oldPassword)
	if _, _, err := h.Store.UpdateUser(context.Background(), w.staff.ID, w.platform.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.staffer = h.User(t, w.staff, "staffer@staff.example", store.RoleAdmin, oldPassword)
	return w
}

func (w *resetWorld) as(t *testing.T, email string) *handlersClient {
	t.Helper()
	c := w.Client(t)
	c.Login(email, oldPassword)
	return c
}

// issue asks for a link as c and returns it, failing unless the page shows
// one.
func issue(t *testing.T, c *handlersClient, path string) string {
	t.Helper()
	r := c.Post(path, nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d\n%s", path, r.StatusCode, pageError(r.Body))
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q: the link could be cached", cc)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	link, _ := doc.Find("#reset-link").Attr("value")
	if !strings.Contains(link, "/login/reset?token=") {
		t.Fatalf("no link on the page:\n%s", r.Body)
	}
	return link
}

// useLink opens the link in a fresh browser and sets password with it,
// returning the final status.
func (w *resetWorld) useLink(t *testing.T, link, password string) (int, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	c := w.Client(t)
	if r := c.Get(u.RequestURI()); r.StatusCode != http.StatusOK {
		return r.StatusCode, pageError(r.Body)
	}
	r := c.Post("/login/reset", url.Values{"token": {u.Query().Get("token")}, "password": {password}, "confirm": {password}})
	return r.StatusCode, pageError(r.Body)
}

func signInStatus(w *resetWorld, t *testing.T, email, password string) int {
	t.Helper()
	return w.Client(t).Post("/login", url.Values{"email": {email}, "password": {password}}).StatusCode
}

func TestResetLinkIssueUseAndSignIn(t *testing.T) {
	w := newResetWorld(t)
	admin := w.as(t, "admin@acme.example")
	adaSession := w.as(t, "ada@acme.example")
	link := issue(t, admin, "/org/users/"+w.ada.ID+"/reset-link")
	if !strings.HasPrefix(link, w.URL+"/login/reset?token=") {
		t.Fatalf("link %q is not under the portal's URL", link)
	}

	if status, msg := w.useLink(t, link, "short"); status != http.StatusUnprocessableEntity {
		t.Fatalf("weak password: %d %s", status, msg)
	}
	if status, msg := w.useLink(t, link, "a brand new passphrase"); status != http.StatusOK {
		t.Fatalf("using the link: %d %s", status, msg)
	}
	if got := signInStatus(w, t, "ada@acme.example", "a brand new passphrase"); got != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", got)
	}
	if got := signInStatus(w, t, "ada@acme.example", oldPassword); got == http.StatusSeeOther {
		t.Fatal("the old password still works")
	}
	if r := adaSession.Get("/account"); r.StatusCode == http.StatusOK {
		t.Fatal("the reset left an old session signed in")
	}

	// Reuse is refused, before and after the form.
	if status, _ := w.useLink(t, link, "yet another passphrase"); status != http.StatusBadRequest {
		t.Fatalf("reused link: %d", status)
	}
	if got := signInStatus(w, t, "ada@acme.example", "yet another passphrase"); got == http.StatusSeeOther {
		t.Fatal("a reused link changed the password")
	}

	// Of two links, the first one used voids the other.
	first := issue(t, admin, "/org/users/"+w.acmeMem.ID+"/reset-link")
	second := issue(t, admin, "/org/users/"+w.acmeMem.ID+"/reset-link")
	if status, msg := w.useLink(t, second, "member's new passphrase"); status != http.StatusOK {
		t.Fatalf("second link: %d %s", status, msg)
	}
	if status, _ := w.useLink(t, first, "member's other passphrase"); status != http.StatusBadRequest {
		t.Fatalf("first link after the second was used: %d", status)
	}

	evs, err := w.Store.AuditEvents(context.Background(), store.AuditFilter{OrgID: w.acme.ID})
	if err != nil {
		t.Fatal(err)
	}
	var issued, used int
	for _, e := range evs {
		switch e.Action {
		case "user.reset_link":
			issued++
			if e.ActorID != w.acmeAdmin.ID || strings.Contains(string(e.After), "token") {
				t.Errorf("audit event %+v", e)
			}
		case "user.password_reset":
			used++
		}
	}
	if issued != 3 || used != 2 {
		t.Fatalf("audit: %d issued, %d used", issued, used)
	}
}

func TestResetLinkExpires(t *testing.T) {
	w := newResetWorld(t)
	admin := w.as(t, "admin@acme.example")
	link := issue(t, admin, "/org/users/"+w.ada.ID+"/reset-link")
	u, _ := url.Parse(link)
	c := w.Client(t)
	if r := c.Get(u.RequestURI()); r.StatusCode != http.StatusOK {
		t.Fatalf("fresh link: %d", r.StatusCode)
	}
	w.clock.Advance(24*time.Hour + time.Minute)
	if r := c.Get(u.RequestURI()); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired link shown: %d", r.StatusCode)
	}
	// The form was loaded while the link was alive; submitting it late is
	// still refused.
	r := c.Post("/login/reset", url.Values{"token": {u.Query().Get("token")}, "password": {"late new passphrase"},
		"confirm": {"late new passphrase"}})
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired link used: %d", r.StatusCode)
	}
	if got := signInStatus(w, t, "ada@acme.example", oldPassword); got != http.StatusSeeOther {
		t.Fatalf("the old password stopped working: %d", got)
	}
}

func TestResetLinkScope(t *testing.T) {
	w := newResetWorld(t)
	own := func(u store.User) string { return "/org/users/" + u.ID + "/reset-link" }
	platform := func(org store.Organization, u store.User) string {
		return "/admin/orgs/" + org.Slug + "/users/" + u.ID + "/reset-link"
	}
	cases := []struct {
		name, as, path string
		want           int
	}{
		{"another org's admin", "admin@globex.example", own(w.ada), http.StatusNotFound},
		{"platform admin on the org route", "root@staff.example", own(w.ada), http.StatusNotFound},
		{"platform admin naming the wrong org", "root@staff.example", platform(w.globex, w.ada), http.StatusNotFound},
		{"platform admin naming no org", "root@staff.example", platform(store.Organization{Slug: "nope"}, w.ada), http.StatusNotFound},
		{"org admin on the platform route", "admin@acme.example", platform(w.acme, w.ada), http.StatusForbidden},
		{"developer", "ada@acme.example", own(w.acmeMem), http.StatusForbidden},
		{"member", "mem@acme.example", own(w.ada), http.StatusForbidden},
		{"user without a pool password", "admin@acme.example", own(w.sso), http.StatusConflict},
		{"staff admin on a platform admin", "staffer@staff.example", own(w.platform), http.StatusForbidden},
		{"unknown user", "admin@acme.example", "/org/users/nope/reset-link", http.StatusNotFound},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := w.as(t, tt.as).Post(tt.path, nil)
			if r.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.want, pageError(r.Body))
			}
			if strings.Contains(r.Body, "/login/reset?token=") {
				t.Fatal("a refused request showed a link")
			}
		})
	}
	if r := w.Client(t).Post(own(w.ada), nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", r.StatusCode)
	}
	// The platform admin reaches any organization's pool users by naming it.
	link := issue(t, w.as(t, "root@staff.example"), platform(w.acme, w.ada))
	if status, msg := w.useLink(t, link, "set by the platform"); status != http.StatusOK {
		t.Fatalf("platform admin's link: %d %s", status, msg)
	}
}

// A new password from an administrator's reset link lifts the sign-in
// pause an attacker caused for the account, on every network.
func TestResetLinkLiftsTheAccountsSignInPauses(t *testing.T) {
	w := newResetWorld(t)
	admin := w.as(t, "admin@acme.example")
	for i := 0; i < 5; i++ {
		signInStatus(w, t, "mem@acme.example", "wrong password!")
	}
	if got := signInStatus(w, t, "mem@acme.example", oldPassword); got != http.StatusTooManyRequests {
		t.Fatalf("after five failures: %d", got)
	}
	link := issue(t, admin, "/org/users/"+w.acmeMem.ID+"/reset-link")
	if status, msg := w.useLink(t, link, "member's new passphrase"); status != http.StatusOK {
		t.Fatalf("using the link: %d %s", status, msg)
	}
	if got := signInStatus(w, t, "mem@acme.example", "member's new passphrase"); got != http.StatusSeeOther {
		t.Fatalf("the new password from the same network: %d", got)
	}
}

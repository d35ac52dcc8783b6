package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// resetButton finds the members page's reset-link form for userID.
func resetButton(doc *goquery.Document, userID string) *goquery.Selection {
	return doc.Find(`#members form[action="/org/users/` + userID + `/reset-link"]`)
}

// TestMembersPageOffersResetLinks: an org admin sees a reset-link button
// for each member they manage who has a Portico password (not for
// themselves, not for SSO users), members cannot open the page at all, and
// the button's form, CSRF field included, issues a link that works.
func TestMembersPageOffersResetLinks(t *testing.T) {
	w := newResetWorld(t)
	admin := w.as(t, "admin@acme.example")
	r := admin.Get("/org/members")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("members page: %d", r.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who  string
		id   string
		want bool
	}{
		{"a developer with a password", w.ada.ID, true},
		{"a member with a password", w.acmeMem.ID, true},
		{"an SSO member", w.sso.ID, false},
		{"the admin themselves", w.acmeAdmin.ID, false},
	} {
		if got := resetButton(doc, c.id).Length() == 1; got != c.want {
			t.Errorf("%s: button shown %v, want %v", c.who, got, c.want)
		}
	}
	for _, who := range []string{"mem@acme.example", "ada@acme.example"} {
		r := w.as(t, who).Get("/org/members")
		if r.StatusCode != http.StatusForbidden || strings.Contains(r.Body, "/reset-link") {
			t.Errorf("%s opens the members page: %d", who, r.StatusCode)
		}
	}

	form := resetButton(doc, w.acmeMem.ID)
	csrf, _ := form.Find(`input[name="_csrf"]`).Attr("value")
	action, _ := form.Attr("action")
	if csrf == "" {
		t.Fatal("the reset-link form has no CSRF field")
	}
	if r := admin.PostRaw(action, url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF field: %d, want 403", r.StatusCode)
	}
	r = admin.Post(action, url.Values{"_csrf": {csrf}}) // the form as the page rendered it
	if r.StatusCode != http.StatusOK {
		t.Fatalf("submitting the form: %d %s", r.StatusCode, pageError(r.Body))
	}
	issued, _ := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	link, _ := issued.Find("#reset-link").Attr("value")
	if !strings.Contains(link, "/login/reset?token=") {
		t.Fatalf("no link on the page:\n%s", r.Body)
	}
	if status, msg := w.useLink(t, link, "a brand new passphrase"); status != http.StatusOK {
		t.Fatalf("using the link: %d %s", status, msg)
	}
	if got := signInStatus(w, t, "mem@acme.example", "a brand new passphrase"); got != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", got)
	}
}

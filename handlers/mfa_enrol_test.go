package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/federation"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/partners"
	"portico/partners/partnerstest"
	"portico/store"
)

func confirmed(t *testing.T, mp *mfaPortal, email string) bool {
	t.Helper()
	tt, err := mp.Store.UserTOTP(context.Background(), mustUser(t, mp.Harness, email).ID)
	return err == nil && !tt.ConfirmedAt.IsZero()
}

// Finding 2: someone holding only a session (no password) cannot meet a
// step-up by enrolling their own authenticator on the spot.
func TestStepUpEnrolmentNeedsTheFirstFactorAgain(t *testing.T) {
	mp := newMFAPortal(t)
	const ip = "198.51.100.7"
	mp.user(t, "dana@acme.example", false)
	c := mp.Client(t)
	if state := mp.passwordStep(t, c, "dana@acme.example", ip); state != "" {
		t.Fatal("asked for a code without an authenticator")
	}
	mp.clock.Advance(2 * time.Minute) // the session is all that is left

	page := from(t, c, http.MethodGet, mp.URL+"/launch/wiki/verify", ip, nil)
	m := totpSecretRE.FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `id="reauth-password"`) {
		t.Fatalf("the enrolment form does not ask for the password:\n%s", page.Body)
	}
	code := mp.code(t, m[1])
	r := from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {code}})
	if r.StatusCode != http.StatusUnprocessableEntity || confirmed(t, mp, "dana@acme.example") {
		t.Fatalf("enrolment with the session alone: %d, confirmed=%v", r.StatusCode, confirmed(t, mp, "dana@acme.example"))
	}
	r = from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {code}, "password": {"not the password"}})
	if r.StatusCode != http.StatusUnprocessableEntity || confirmed(t, mp, "dana@acme.example") ||
		!strings.Contains(r.Body, "The password is incorrect") {
		t.Fatalf("enrolment with a wrong password: %d", r.StatusCode)
	}
	r = from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {code}, "password": {pw}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="recovery-codes"`) || !confirmed(t, mp, "dana@acme.example") {
		t.Fatalf("enrolment with the password: %d %s", r.StatusCode, pageError(r.Body))
	}
	if a := mp.auditActions(t)["mfa.totp_enroll"]; !strings.Contains(a, "step-up") || !strings.Contains(a, ip) {
		t.Fatalf("enrolment not audited: %q", a)
	}
}

// Enrolling from the account page needs the password again too, unless the
// sign-in was within the minute; enrolment and removal are audited, and the
// person is mailed when SMTP is configured.
func TestAccountPageEnrolmentNeedsTheFirstFactorIsAuditedAndMailed(t *testing.T) {
	addr, got := partnerstest.FakeSMTP(t)
	mp := newMFAPortal(t, func(c *handlers.Config) {
		c.Mailer = &partners.SMTPMailer{Addr: addr, From: "Portico <portal@example.com>"}
	})
	const ip = "198.51.100.7"
	mp.user(t, "dana@acme.example", false)
	c := mp.Client(t)
	mp.passwordStep(t, c, "dana@acme.example", ip)
	mp.clock.Advance(2 * time.Minute)

	page := from(t, c, http.MethodGet, mp.URL+"/account/mfa", ip, nil)
	m := totpSecretRE.FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `id="reauth-password"`) {
		t.Fatalf("the enrolment form does not ask for the password:\n%s", page.Body)
	}
	code := mp.code(t, m[1])
	if r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/confirm", ip, url.Values{"code": {code}}); r.StatusCode != http.StatusUnprocessableEntity ||
		confirmed(t, mp, "dana@acme.example") {
		t.Fatalf("enrolment with the session alone: %d", r.StatusCode)
	}
	r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/confirm", ip, url.Values{"code": {code}, "password": {pw}})
	if r.StatusCode != http.StatusOK || !confirmed(t, mp, "dana@acme.example") {
		t.Fatalf("enrolment with the password: %d %s", r.StatusCode, pageError(r.Body))
	}
	select {
	case msg := <-got:
		if !strings.Contains(msg, "To: <dana@acme.example>") || !strings.Contains(msg, "Subject: An authenticator app was added") ||
			!strings.Contains(msg, ip) {
			t.Fatalf("the notice:\n%s", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no mail about the new authenticator")
	}
	if a := mp.auditActions(t)["mfa.totp_enroll"]; !strings.Contains(a, "account") {
		t.Fatalf("enrolment not audited: %q", a)
	}
	mp.clock.Advance(time.Minute)
	if r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/disable", ip, url.Values{"code": {mp.code(t, m[1])}}); r.StatusCode != http.StatusSeeOther ||
		confirmed(t, mp, "dana@acme.example") {
		t.Fatalf("turning MFA off: %d", r.StatusCode)
	}
	if a := mp.auditActions(t)["mfa.totp_remove"]; !strings.Contains(a, "account") {
		t.Fatalf("removal not audited: %q", a)
	}

	// A sign-in within the minute is proof enough: no password asked.
	mp.user(t, "erin@acme.example", false)
	e := mp.Client(t)
	mp.passwordStep(t, e, "erin@acme.example", ip)
	mp.clock.Advance(20 * time.Second)
	page = from(t, e, http.MethodGet, mp.URL+"/account/mfa", ip, nil)
	m = totpSecretRE.FindStringSubmatch(page.Body)
	if m == nil || strings.Contains(page.Body, `id="reauth-password"`) {
		t.Fatalf("a fresh sign-in is asked for the password again")
	}
	if r := from(t, e, http.MethodPost, mp.URL+"/account/mfa/confirm", ip, url.Values{"code": {mp.code(t, m[1])}}); r.StatusCode != http.StatusOK ||
		!confirmed(t, mp, "erin@acme.example") {
		t.Fatalf("enrolment right after signing in: %d %s", r.StatusCode, pageError(r.Body))
	}
}

// An organization that requires a second factor has people enrol right at
// their first sign-in, before any session; its admin sets it on the
// organization's security page.
func TestOrganizationRequiringMFAEnrolsAtFirstSignIn(t *testing.T) {
	mp := newMFAPortal(t)
	const ip = "198.51.100.7"
	admin := mp.User(t, mp.org, "ada@acme.example", store.RoleAdmin, pw)
	a := mp.Client(t)
	mp.passwordStep(t, a, admin.Email, ip)
	if r := from(t, a, http.MethodPost, mp.URL+"/org/security", ip, url.Values{"require_mfa": {"on"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the setting: %d %s", r.StatusCode, pageError(r.Body))
	}
	if o, _ := mp.Store.Organization(context.Background(), mp.org.ID); !o.RequireMFA {
		t.Fatal("the setting was not stored")
	}
	if _, ok := mp.auditActions(t)["org.update"]; !ok {
		t.Fatal("the change is not in the audit log")
	}

	mp.user(t, "dana@acme.example", false)
	c := mp.Client(t)
	state := mp.passwordStep(t, c, "dana@acme.example", ip)
	if state == "" {
		t.Fatal("signed in without enrolling a second factor")
	}
	if r := from(t, c, http.MethodGet, mp.URL+"/account", ip, nil); r.StatusCode == http.StatusOK {
		t.Fatal("a session exists before the second factor is enrolled")
	}
	page := from(t, c, http.MethodGet, mp.URL+"/login/mfa?state="+url.QueryEscape(state), ip, nil)
	m := totpSecretRE.FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `id="mfa-required"`) {
		t.Fatalf("no enrolment at sign-in:\n%s", page.Body)
	}
	if r := from(t, c, http.MethodPost, mp.URL+"/login/mfa", ip, url.Values{"state": {state}, "code": {mp.wrongCode(t, m[1])}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", r.StatusCode)
	}
	r := from(t, c, http.MethodPost, mp.URL+"/login/mfa", ip, url.Values{"state": {state}, "code": {mp.code(t, m[1])}})
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if r.StatusCode != http.StatusOK || doc.Find("#recovery-codes").Length() != 1 || doc.Find("#continue-signin").AttrOr("href", "") != "/" {
		t.Fatalf("after enrolling: %d %s", r.StatusCode, pageError(r.Body))
	}
	if r := from(t, c, http.MethodGet, mp.URL+"/account", ip, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("no session after enrolling: %d", r.StatusCode)
	}
	if !confirmed(t, mp, "dana@acme.example") || !strings.Contains(mp.auditActions(t)["mfa.totp_enroll"], "sign-in") {
		t.Fatal("the enrolment is not stored and audited")
	}
	// The next sign-in asks for a code as usual.
	mp.clock.Advance(time.Minute)
	if state := mp.passwordStep(t, mp.Client(t), "dana@acme.example", ip); state == "" {
		t.Fatal("no code asked at the next sign-in")
	}
}

// A platform admin sets the same on the organization's page; an org admin
// of another organization cannot reach it.
func TestPlatformAdminSetsRequireMFAOnTheOrganizationsPage(t *testing.T) {
	w := newWorld(t)
	pa := w.as(t, platformAdmin)
	r := pa.Post("/admin/orgs/acme", url.Values{"slug": {"acme"}, "name": {"Acme"}, "require_mfa": {"on"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, pageError(r.Body))
	}
	if o, _ := w.h.Store.Organization(context.Background(), w.acme.ID); !o.RequireMFA {
		t.Fatal("not stored")
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(pa.Get("/admin/orgs/acme").Body))
	if _, checked := doc.Find("#require-mfa").Attr("checked"); !checked {
		t.Fatal("the page does not show the setting")
	}
	if r := pa.Post("/admin/orgs/acme", url.Values{"slug": {"acme"}, "name": {"Acme"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	if o, _ := w.h.Store.Organization(context.Background(), w.acme.ID); o.RequireMFA {
		t.Fatal("unticking did not clear it")
	}
	if r := w.as(t, otherOrgAdmin).Post("/admin/orgs/acme", url.Values{"slug": {"acme"}, "name": {"Acme"}, "require_mfa": {"on"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another organization's admin: %d", r.StatusCode)
	}
}

// Someone without a Portico password proves it's them by signing in again
// with their identity provider, and then has a minute to enrol.
func TestFederatedEnrolmentNeedsAFreshSignIn(t *testing.T) {
	mp := newMFAPortal(t)
	const ip = "198.51.100.7"
	svc := &federation.Service{Store: mp.Store, Sealer: mp.sealer, Registry: builtin.Registry(), Now: mp.clock.Now}
	name := "Acme sandbox"
	secret := "sandbox-pass"
	x, err := svc.Create(context.Background(), store.Actor{Label: "test"}, mp.org.ID, federation.Input{Type: "sandbox", Name: &name,
		Secret: &secret, Settings: map[string]string{"users": "tess@acme.example | Tess Tester | qa"}})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(c *handlerstest.Client, next string) handlerstest.Response {
		return from(t, c, http.MethodPost, mp.URL+"/login", ip, url.Values{"email": {"tess@acme.example"}, "stage": {"password"},
			"connection": {x.ID}, "password": {"sandbox-pass"}, "next": {next}})
	}
	c := mp.Client(t)
	if r := signIn(c, ""); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sandbox sign-in: %d %s", r.StatusCode, pageError(r.Body))
	}
	mp.clock.Advance(2 * time.Minute)

	page := from(t, c, http.MethodGet, mp.URL+"/account/mfa", ip, nil)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page.Body))
	m := totpSecretRE.FindStringSubmatch(page.Body)
	form := doc.Find("#reauth-signin")
	if m == nil || form.Length() != 1 || form.Find(`input[name="connection"]`).AttrOr("value", "") != x.ID ||
		doc.Find("#reauth-password").Length() != 0 {
		t.Fatalf("the enrolment page does not offer a sign-in again:\n%s", page.Body)
	}
	if r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/confirm", ip, url.Values{"code": {mp.code(t, m[1])}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("enrolment with the session alone: %d", r.StatusCode)
	}
	// The button's form: to the identity provider (the sandbox asks for its
	// password here) and back to the page.
	r := from(t, c, http.MethodPost, mp.URL+"/login/start", ip, url.Values{"email": {"tess@acme.example"}, "connection": {x.ID},
		"next": {form.Find(`input[name="next"]`).AttrOr("value", "")}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign in again: %d", r.StatusCode)
	}
	if r := signIn(c, "/account/mfa"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/mfa" {
		t.Fatalf("back from the identity provider: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	mp.clock.Advance(30 * time.Second)
	if r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/confirm", ip, url.Values{"code": {mp.code(t, m[1])}}); r.StatusCode != http.StatusOK ||
		!confirmed(t, mp, "tess@acme.example") {
		t.Fatalf("enrolment after signing in again: %d %s", r.StatusCode, pageError(r.Body))
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/federation/pool"
	"portico/handlers"
	"portico/partners"
	"portico/store"
)

// noticeBox is a mailer that keeps what it is asked to send.
type noticeBox struct {
	mu   sync.Mutex
	sent []partners.SecurityNotice
}

func (b *noticeBox) SendInvitation(context.Context, partners.InvitationMail) error { return nil }

func (b *noticeBox) SendSecurityNotice(_ context.Context, n partners.SecurityNotice) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, n)
	return nil
}

// wait returns the notices sent to addr within a second (mail goes out
// after the answer).
func (b *noticeBox) to(addr string, wait time.Duration) []partners.SecurityNotice {
	deadline := time.Now().Add(wait)
	for {
		b.mu.Lock()
		var out []partners.SecurityNotice
		for _, n := range b.sent {
			if n.To == addr {
				out = append(out, n)
			}
		}
		b.mu.Unlock()
		if len(out) > 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var mailedLink = regexp.MustCompile(`http\S+/login/reset\?token=\S+`)

// TestForgotPasswordSameAnswerForEveryAddress: a known address, an unknown
// one and a federated-only one get the same page and status; only the known
// one gets a mail; its link works once and leaves the passkeys alone; the
// old password stops working.
func TestForgotPasswordSameAnswerForEveryAddress(t *testing.T) {
	box := &noticeBox{}
	h, d := throttlePortal(t, func(c *handlers.Config) { c.Mailer = box })
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	sso := store.User{OrgID: org.ID, Email: "sso@acme.example", Name: "SSO", Role: store.RoleMember}
	if err := h.Store.CreateUser(context.Background(), &sso); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, addr := range []string{"ann@acme.example", "nobody@acme.example", "sso@acme.example"} {
		c := h.Client(t)
		r := from(t, c, http.MethodPost, h.URL+"/login/forgot", "203.0.113.5", url.Values{"email": {addr}})
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d %s", addr, r.StatusCode, pageError(r.Body))
		}
		bodies = append(bodies, regexp.MustCompile(`name="_csrf" value="[^"]*"`).ReplaceAllString(r.Body, ""))
	}
	for i := 1; i < len(bodies); i++ {
		if bodies[i] != bodies[0] {
			t.Fatalf("answer %d differs from the first:\n%s\n---\n%s", i, bodies[0], bodies[i])
		}
	}
	// Every answer waits up to the same minimum.
	if got := d.take(); len(got) != 3 {
		t.Errorf("delays %v: every answer should be padded", got)
	}
	sent := box.to("ann@acme.example", 2*time.Second)
	if len(sent) != 1 {
		t.Fatalf("mails to ann: %d", len(sent))
	}
	if n := len(box.to("nobody@acme.example", 100*time.Millisecond)) + len(box.to("sso@acme.example", 0)); n != 0 {
		t.Fatalf("%d mails went to addresses without a password", n)
	}
	link := mailedLink.FindString(sent[0].Text)
	if !strings.HasPrefix(link, h.URL+"/login/reset?token=") {
		t.Fatalf("no link in the mail:\n%s", sent[0].Text)
	}
	u, _ := url.Parse(link)
	token := u.Query().Get("token")
	if _, err := h.Store.PasswordResetByToken(context.Background(), pool.HashResetToken(token), time.Now()); err != nil {
		t.Fatalf("the store does not hold the token's hash: %v", err)
	}
	if r, err := h.Store.PasswordResetByToken(context.Background(), pool.HashResetToken(token), time.Now().Add(31*time.Minute)); err == nil {
		t.Fatalf("the link lives past 30 minutes: %v", r.ExpiresAt)
	}
	use := func() int {
		c := h.Client(t)
		c.Get(u.RequestURI())
		return c.Post("/login/reset", url.Values{"token": {token}, "password": {"a fresh passphrase"}, "confirm": {"a fresh passphrase"}}).StatusCode
	}
	if got := use(); got != http.StatusOK {
		t.Fatalf("using the link: %d", got)
	}
	if got := use(); got != http.StatusBadRequest {
		t.Fatalf("the link worked twice: %d", got)
	}
	if got := h.Client(t).Post("/login", url.Values{"email": {"ann@acme.example"}, "password": {pw}}).StatusCode; got == http.StatusSeeOther {
		t.Fatal("the old password still signs in")
	}
	if got := h.Client(t).Post("/login", url.Values{"email": {"ann@acme.example"}, "password": {"a fresh passphrase"}}).StatusCode; got != http.StatusSeeOther {
		t.Fatalf("the new password: %d", got)
	}
}

// TestForgotPasswordIsThrottled: the fourth request for one address from one
// network within the hour is refused, known address or not, and no mail
// goes out for it; another network is not affected.
func TestForgotPasswordIsThrottled(t *testing.T) {
	box := &noticeBox{}
	h, _ := throttlePortal(t, func(c *handlers.Config) { c.Mailer = box })
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	for _, addr := range []string{"ann@acme.example", "ghost@acme.example"} {
		c := h.Client(t)
		for i := 1; i <= 4; i++ {
			r := from(t, c, http.MethodPost, h.URL+"/login/forgot", "198.51.100.7", url.Values{"email": {addr}})
			want := http.StatusOK
			if i == 4 {
				want = http.StatusTooManyRequests
			}
			if r.StatusCode != want {
				t.Fatalf("%s request %d: %d, want %d", addr, i, r.StatusCode, want)
			}
		}
		if r := from(t, c, http.MethodPost, h.URL+"/login/forgot", "203.0.113.9", url.Values{"email": {addr}}); r.StatusCode != http.StatusOK {
			t.Fatalf("%s from another network: %d", addr, r.StatusCode)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(box.to("ann@acme.example", 0)); n != 4 {
		t.Fatalf("%d mails to ann, want 4 (3 allowed from one network, 1 from another)", n)
	}
}

// TestForgotPasswordWithoutMail: without SMTP the page says whom to ask and
// nothing is stored.
func TestForgotPasswordWithoutMail(t *testing.T) {
	h, _ := throttlePortal(t)
	org := h.Org(t, "acme", "acme.example")
	ann := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	c := h.Client(t)
	if r := c.Get("/login/forgot"); !strings.Contains(r.Body, "does not send email") {
		t.Fatalf("page without mail:\n%s", r.Body)
	}
	if r := c.Post("/login/forgot", url.Values{"email": {"ann@acme.example"}}); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d", r.StatusCode)
	}
	if ev, _ := h.Store.TargetAudit(context.Background(), "user", ann.ID, "user.reset_requested", 5); len(ev) != 0 {
		t.Fatal("a reset link was made without a way to send it")
	}
}

// TestChangePassword: the current password is required and checked; a
// weak or mismatched new one is refused with nothing changed; a change
// signs out the other browsers but not this one, and is audited.
func TestChangePassword(t *testing.T) {
	h, _ := throttlePortal(t)
	org := h.Org(t, "acme", "acme.example")
	ann := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	me, other := h.Client(t), h.Client(t)
	me.Login("ann@acme.example", pw)
	other.Login("ann@acme.example", pw)
	// The other browser is in use, so its session is cached (and must still end).
	if r := other.Get("/account"); r.StatusCode != http.StatusOK {
		t.Fatalf("the other browser is not signed in: %d", r.StatusCode)
	}
	for name, form := range map[string]url.Values{
		"wrong current": {"current": {"not it at all"}, "password": {"a new passphrase"}, "confirm": {"a new passphrase"}},
		"no current":    {"password": {"a new passphrase"}, "confirm": {"a new passphrase"}},
		"weak":          {"current": {pw}, "password": {"short"}, "confirm": {"short"}},
		"mismatch":      {"current": {pw}, "password": {"a new passphrase"}, "confirm": {"another one here"}},
	} {
		if r := me.Post("/account/password", form); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d", name, r.StatusCode)
		}
	}
	if got := h.Client(t).Post("/login", url.Values{"email": {"ann@acme.example"}, "password": {pw}}).StatusCode; got != http.StatusSeeOther {
		t.Fatalf("a refused change changed the password: sign-in %d", got)
	}
	r := me.Post("/account/password", url.Values{"current": {pw}, "password": {"a new passphrase"}, "confirm": {"a new passphrase"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %s", r.StatusCode, pageError(r.Body))
	}
	if r := me.Get(r.Header.Get("Location")); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Your password was changed") {
		t.Fatalf("this browser after the change: %d", r.StatusCode)
	}
	if r := other.Get("/account"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the other browser is still signed in: %d", r.StatusCode)
	}
	events, err := h.Store.TargetAudit(context.Background(), "user", ann.ID, "user.password_change", 5)
	if err != nil || len(events) != 1 {
		t.Fatalf("audit: %v %v", events, err)
	}
}

// TestPasswordChangeRequiredGate: someone who must choose a new password is
// sent to the form from every page and cannot post anything else until
// they do.
func TestPasswordChangeRequiredGate(t *testing.T) {
	h, _ := throttlePortal(t)
	org := h.Org(t, "acme", "acme.example")
	ann := h.User(t, org, "ann@acme.example", store.RoleAdmin, pw)
	if err := h.Store.RequirePasswordChange(context.Background(), ann.ID); err != nil {
		t.Fatal(err)
	}
	c := h.Client(t)
	c.Login("ann@acme.example", pw)
	for _, p := range []string{"/", "/account", "/apps"} {
		if r := c.Get(p); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/password" {
			t.Fatalf("GET %s: %d %s", p, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if r := c.Post("/account/locations/forget", url.Values{"network": {"203.0.113.0/24"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a post before the change: %d", r.StatusCode)
	}
	if r := c.Get("/account/password"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="password-required"`) {
		t.Fatalf("the form: %d", r.StatusCode)
	}
	c.Post("/account/password", url.Values{"current": {pw}, "password": {"my own passphrase"}, "confirm": {"my own passphrase"}})
	if r := c.Get("/"); r.StatusCode != http.StatusOK {
		t.Fatalf("after the change: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestSignInHistory: a wrong password, the lockout it leads to and a
// sign-in are on the account page, and only on that person's.
func TestSignInHistory(t *testing.T) {
	h, _ := throttlePortal(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	h.User(t, org, "bob@acme.example", store.RoleMember, pw)
	evil := h.Client(t)
	for range 5 {
		signInFrom(t, h, evil, "198.51.100.7", "ann@acme.example", "wrong password!")
	}
	c := h.Client(t)
	if r := signInFrom(t, h, c, "203.0.113.9", "ann@acme.example", pw); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.StatusCode)
	}
	body := from(t, c, http.MethodGet, h.URL+"/account", "203.0.113.9", nil).Body
	for _, want := range []string{"signed in", "wrong password", "locked", "198.51.100.0/24", "203.0.113.0/24", "password"} {
		if !strings.Contains(body, want) {
			t.Errorf("history lacks %q", want)
		}
	}
	b := h.Client(t)
	b.Login("bob@acme.example", pw)
	if body := b.Get("/account").Body; strings.Contains(body, "198.51.100.0/24") {
		t.Error("bob's history shows ann's failures")
	}
}

// TestRegenerateRecoveryCodesNeedsThePassword: new codes need the first
// factor again once the sign-in is more than a minute old; they are shown
// once (not cached) and replace the old ones.
func TestRegenerateRecoveryCodesNeedsThePassword(t *testing.T) {
	mp := newMFAPortal(t)
	u, secret := mp.user(t, "ann@acme.example", true)
	c := mp.Client(t)
	state := mp.passwordStep(t, c, "ann@acme.example", "203.0.113.9")
	if r := from(t, c, http.MethodPost, mp.URL+"/login/mfa", "203.0.113.9", url.Values{"state": {state}, "code": {mp.code(t, secret)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("code step: %d %s", r.StatusCode, pageError(r.Body))
	}
	mp.clock.Advance(2 * time.Minute)
	for name, form := range map[string]url.Values{"no password": {}, "wrong password": {"password": {"not the password"}}} {
		if r := c.Post("/account/mfa/recovery", form); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d", name, r.StatusCode)
		}
	}
	r := c.Post("/account/mfa/recovery", url.Values{"password": {pw}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("regenerate: %d %s", r.StatusCode, pageError(r.Body))
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
	codes := regexp.MustCompile(`<li><code>([^<]+)</code></li>`).FindAllStringSubmatch(r.Body, -1)
	if len(codes) != pool.RecoveryCodeCount {
		t.Fatalf("%d codes shown", len(codes))
	}
	if n, _ := mp.Store.UnusedRecoveryCodes(context.Background(), u.ID); n != pool.RecoveryCodeCount {
		t.Fatalf("%d unused codes stored", n)
	}
	if _, ok := mp.auditActions(t)["mfa.recovery_regenerate"]; !ok {
		t.Error("not audited")
	}
	if r := c.Get("/account/mfa"); strings.Contains(r.Body, codes[0][1]) {
		t.Fatal("the codes are shown again")
	}
}

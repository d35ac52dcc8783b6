package handlers_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/federation/builtin"
	"portico/federation/pool"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
)

// mfaPortal is a portal with TOTP wired, a fake clock, recorded delays and
// a launchable app (no policy: step-up verify still checks the code), behind
// a trusted proxy on 127.0.0.1.
type mfaPortal struct {
	*handlerstest.Harness
	clock  *clock
	sealer *store.Sealer
	delays *delays
	org    store.Organization
}

func newMFAPortal(t *testing.T, opts ...handlerstest.Option) *mfaPortal {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	mp := &mfaPortal{clock: &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}, sealer: sealer, delays: &delays{}}
	opts = append([]handlerstest.Option{func(c *handlers.Config) {
		c.Now = mp.clock.Now
		c.Store.Now = mp.clock.Now
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry(), Sleep: mp.delays.sleep}
	}}, opts...)
	mp.Harness = handlerstest.New(t, opts...)
	mp.org = mp.Org(t, "acme", "acme.example")
	app := store.Client{OrgID: mp.org.ID, ClientID: "wiki", Name: "Team wiki", Type: store.ClientWeb,
		RedirectURIs: []string{"https://wiki.acme.example/callback"}, LaunchURL: "https://wiki.acme.example/login",
		Enabled: true, TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := mp.Store.CreateClient(context.Background(), &app); err != nil {
		t.Fatal(err)
	}
	return mp
}

// user creates a pool user, with a confirmed authenticator when totp; it
// returns the user and the TOTP secret.
func (mp *mfaPortal) user(t *testing.T, email string, totp bool) (store.User, string) {
	ctx := context.Background()
	u := mp.User(t, mp.org, email, store.RoleMember, pw)
	if !totp {
		return u, ""
	}
	e, err := pool.NewEnrollment("Portico", email)
	if err != nil {
		t.Fatal(err)
	}
	if err := mp.Store.PutTOTP(ctx, u.ID, mp.sealer.Seal([]byte(e.Secret), "totp:"+u.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := mp.Store.AcceptTOTPStep(ctx, u.ID, 1, true); err != nil {
		t.Fatal(err)
	}
	return u, e.Secret
}

func (mp *mfaPortal) code(t *testing.T, secret string) string {
	t.Helper()
	code, err := pool.TOTPCode(secret, mp.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wrongCode is a code that is not valid now (nor a step either side).
func (mp *mfaPortal) wrongCode(t *testing.T, secret string) string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, _ := pool.TOTPCode(secret, mp.clock.Now().Add(d))
		valid[c] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !valid[c] {
			return c
		}
	}
	t.Fatal("no wrong code")
	return ""
}

// passwordStep signs in with the password from ip and returns the code
// page's state ("" when no code was asked for).
func (mp *mfaPortal) passwordStep(t *testing.T, c *handlerstest.Client, email, ip string) string {
	t.Helper()
	r := from(t, c, http.MethodPost, mp.URL+"/login", ip, url.Values{"email": {email}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("password for %s: %d %s", email, r.StatusCode, pageError(r.Body))
	}
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/login/mfa?state=") {
		return ""
	}
	return strings.TrimPrefix(loc, "/login/mfa?state=")
}

func (mp *mfaPortal) auditActions(t *testing.T) map[string]string {
	t.Helper()
	evs, err := mp.Store.AuditEvents(context.Background(), store.AuditFilter{OrgID: mp.org.ID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range evs {
		out[e.Action] += string(e.After)
	}
	return out
}

// Finding 1: the launch step-up, turning MFA off and the sign-in code page
// count wrong codes on one counter per user: after five wrong codes in any
// mix of them, even the right code is refused everywhere, and each wrong
// answer waits longer than the one before.
func TestEveryPlaceThatChecksASecondFactorSharesOneCounter(t *testing.T) {
	mp := newMFAPortal(t)
	const ip = "198.51.100.7"
	_, secret := mp.user(t, "dana@acme.example", true)
	c := mp.Client(t)
	state := mp.passwordStep(t, c, "dana@acme.example", ip)
	if r := from(t, c, http.MethodPost, mp.URL+"/login/mfa", ip, url.Values{"state": {state}, "code": {mp.code(t, secret)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in code: %d %s", r.StatusCode, pageError(r.Body))
	}
	mp.delays.take()
	mp.clock.Advance(time.Minute)

	wrong := mp.wrongCode(t, secret)
	for i := 1; i <= 3; i++ {
		r := from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {wrong}})
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("wrong step-up code %d: %d", i, r.StatusCode)
		}
	}
	if r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/disable", ip, url.Values{"code": {wrong}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code to turn MFA off: %d", r.StatusCode)
	}
	if got := mp.delays.take(); len(got) != 4 || got[0] != 400*time.Millisecond || got[3] != 1600*time.Millisecond {
		t.Fatalf("delays of four failures in a row: %v", got)
	}
	// The fifth wrong code, through the sign-in page of another browser,
	// locks.
	other := mp.Client(t)
	state = mp.passwordStep(t, other, "dana@acme.example", "203.0.113.9")
	if r := from(t, other, http.MethodPost, mp.URL+"/login/mfa", "203.0.113.9", url.Values{"state": {state}, "code": {wrong}}); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fifth wrong code: %d", r.StatusCode)
	}
	right := mp.code(t, secret)
	if r := from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {right}}); r.StatusCode != http.StatusTooManyRequests ||
		!strings.Contains(r.Body, "Too many wrong codes") {
		t.Fatalf("right step-up code while locked: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/disable", ip, url.Values{"code": {right}}); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right code to turn MFA off while locked: %d", r.StatusCode)
	}
	if r := from(t, other, http.MethodPost, mp.URL+"/login/mfa", "203.0.113.9", url.Values{"state": {state}, "code": {right}}); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right sign-in code while locked: %d", r.StatusCode)
	}
	if tt, err := mp.Store.UserTOTP(context.Background(), mustUser(t, mp.Harness, "dana@acme.example").ID); err != nil || tt.ConfirmedAt.IsZero() {
		t.Fatalf("MFA was turned off while locked: %v", err)
	}
	// After the lock (15 minutes) the right code works again, and a
	// recovery code is counted like a TOTP code.
	mp.clock.Advance(16 * time.Minute)
	if r := from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {"aaaa-bbbb-cccc"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong recovery code after the lock: %d", r.StatusCode)
	}
	if r := from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {mp.code(t, secret)}}); r.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(r.Header.Get("Location"), "https://wiki.acme.example/") {
		t.Fatalf("right code after the lock: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// A TOTP code (its time step) is accepted once per user, whichever page
// it is typed on.
func TestATOTPCodeCountsOnceAcrossPages(t *testing.T) {
	mp := newMFAPortal(t)
	const ip = "198.51.100.7"
	_, secret := mp.user(t, "dana@acme.example", true)
	c := mp.Client(t)
	state := mp.passwordStep(t, c, "dana@acme.example", ip)
	code := mp.code(t, secret)
	if r := from(t, c, http.MethodPost, mp.URL+"/login/mfa", ip, url.Values{"state": {state}, "code": {code}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in code: %d", r.StatusCode)
	}
	if r := from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {code}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("the same code again at step-up: %d", r.StatusCode)
	}
	if r := from(t, c, http.MethodPost, mp.URL+"/account/mfa/disable", ip, url.Values{"code": {code}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("the same code again to turn MFA off: %d", r.StatusCode)
	}
}

func mustUser(t *testing.T, h *handlerstest.Harness, email string) store.User {
	t.Helper()
	us, err := h.Store.UsersByEmail(context.Background(), email)
	if err != nil || len(us) != 1 {
		t.Fatalf("user %s: %v %d", email, err, len(us))
	}
	return us[0]
}

// A burst of parallel guesses gets no more tries than a sequence: each
// attempt is counted before its code is looked at.
func TestParallelWrongCodesGetNoMoreTries(t *testing.T) {
	mp := newMFAPortal(t)
	const ip = "198.51.100.7"
	_, secret := mp.user(t, "dana@acme.example", true)
	c := mp.Client(t)
	state := mp.passwordStep(t, c, "dana@acme.example", ip)
	if r := from(t, c, http.MethodPost, mp.URL+"/login/mfa", ip, url.Values{"state": {state}, "code": {mp.code(t, secret)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in code: %d", r.StatusCode)
	}
	wrong := mp.wrongCode(t, secret)
	const n = 12
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- from(t, c, http.MethodPost, mp.URL+"/launch/wiki/verify", ip, url.Values{"code": {wrong}}).StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	checked := 0
	for s := range statuses {
		switch s {
		case http.StatusUnprocessableEntity:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("status %d", s)
		}
	}
	if checked > 4 {
		t.Fatalf("%d of %d parallel wrong codes were answered as merely wrong; the limit is 5", checked, n)
	}
}

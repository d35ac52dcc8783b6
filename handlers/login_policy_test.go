package handlers_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portico/federation/builtin"
	"portico/federation/pool"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/policyeditor"
	"portico/store"
)

// policySignInPortal is a portal behind a trusted proxy on 127.0.0.1 whose
// sign-in may be decided by a policy attached to the portal itself.
type policySignInPortal struct {
	*handlerstest.Harness
	clock  *clock
	rec    *policyeditor.Recorder
	sealer *store.Sealer
	org    store.Organization
}

func newPolicySignInPortal(t *testing.T) *policySignInPortal {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sp := &policySignInPortal{clock: &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}, sealer: sealer}
	sp.Harness = handlerstest.New(t, func(c *handlers.Config) {
		c.Now = sp.clock.Now
		c.Store.Now = sp.clock.Now
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry()}
		sp.rec = policyeditor.NewRecorder(c.Store, policyeditor.RecorderOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		c.Policies = policyeditor.NewEngine(c.Store, sp.rec)
		c.Locator = policyeditor.IPLocLocator{}
	})
	t.Cleanup(func() { sp.rec.Close() })
	sp.org = sp.Org(t, "acme", "acme.example")
	return sp
}

// user creates a pool user in group, with a confirmed authenticator when
// totp; it returns the user and the TOTP secret.
func (sp *policySignInPortal) user(t *testing.T, email, group string, totp bool) (store.User, string) {
	ctx := context.Background()
	hash, _ := pool.HashPassword(pw)
	u := store.User{OrgID: sp.org.ID, Email: email, Name: email, Role: store.RoleMember, LocalGroups: []string{group}, PasswordHash: hash}
	if err := sp.Store.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if !totp {
		return u, ""
	}
	e, err := pool.NewEnrollment("Portico", email)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Store.PutTOTP(ctx, u.ID, sp.sealer.Seal([]byte(e.Secret), "totp:"+u.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Store.AcceptTOTPStep(ctx, u.ID, 1, true); err != nil {
		t.Fatal(err)
	}
	return u, e.Secret
}

// signIn posts email and password from ip and, when sent to the second
// factor and secret is known, answers it. It returns the last response and
// whether a code was asked for.
func (sp *policySignInPortal) signIn(t *testing.T, c *handlerstest.Client, email, secret, ip string) (handlerstest.Response, bool) {
	t.Helper()
	sp.clock.Advance(time.Minute) // successive codes use different TOTP steps
	r := from(t, c, http.MethodPost, sp.URL+"/login", ip, url.Values{"email": {email}, "password": {pw}})
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login/mfa?state=") {
		return r, false
	}
	if secret == "" {
		t.Fatalf("%s asked for a code without an authenticator", email)
	}
	code, err := pool.TOTPCode(secret, sp.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	state := strings.TrimPrefix(loc, "/login/mfa?state=")
	return from(t, c, http.MethodPost, sp.URL+"/login/mfa", ip, url.Values{"state": {state}, "code": {code}}), true
}

// signedIn reports whether the browser has a session.
func signedIn(t *testing.T, c *handlerstest.Client) bool {
	t.Helper()
	r := c.Get("/account")
	return r.StatusCode == http.StatusOK
}

var refRE = regexp.MustCompile(`id="decision-ref">([a-z0-9]+)<`)

func TestPortalSignInPolicy(t *testing.T) {
	sp := newPolicySignInPortal(t)
	ctx := context.Background()
	const office, cafe = "198.51.100.7", "203.0.113.50"
	dana, danaSecret := sp.user(t, "dana@acme.example", "developers", true)
	sp.user(t, "dev2@acme.example", "developers", false)
	sam, samSecret := sp.user(t, "sam@acme.example", "sales", true)
	sp.user(t, "sue@acme.example", "sales", false)

	// No policy on the portal: sign-in as before (a code for TOTP users only).
	c := sp.Client(t)
	if r, asked := sp.signIn(t, c, "dev2@acme.example", "", cafe); asked || r.StatusCode != http.StatusSeeOther || !signedIn(t, c) {
		t.Fatalf("no policy: %d asked=%v", r.StatusCode, asked)
	}

	svc := &policyeditor.Service{Store: sp.Store}
	saved, err := svc.Import(ctx, store.Actor{Label: "test"}, []byte(ibmPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}

	// Challenge for a user without an authenticator: refused, no session,
	// no enrolment offered, a reference given.
	c = sp.Client(t)
	r, _ := sp.signIn(t, c, "dev2@acme.example", "", cafe)
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "two-step verification") || refRE.FindStringSubmatch(r.Body) == nil {
		t.Fatalf("challenge without TOTP: %d\n%s", r.StatusCode, r.Body)
	}
	if signedIn(t, c) {
		t.Fatal("a refused sign-in has a session")
	}

	// Challenge met with TOTP: session, location remembered.
	c = sp.Client(t)
	if r, asked := sp.signIn(t, c, dana.Email, danaSecret, office); !asked || r.StatusCode != http.StatusSeeOther || !signedIn(t, c) {
		t.Fatalf("developer with TOTP at a new location: %d asked=%v\n%s", r.StatusCode, asked, r.Body)
	}
	locs, _ := sp.Store.Locations(ctx, dana.ID)
	if len(locs) != 1 || locs[0].Network != netip.MustParsePrefix("198.51.100.0/24") {
		t.Fatalf("remembered locations: %+v", locs)
	}

	// A remembered location: permitted; the developer without TOTP gets in
	// without a code once that network is remembered for them.
	dev2, _ := sp.Store.UserByEmail(ctx, sp.org.ID, "dev2@acme.example")
	if err := sp.Store.RememberLocation(ctx, dev2.ID, netip.MustParsePrefix("198.51.100.0/24"), "", sp.clock.Now()); err != nil {
		t.Fatal(err)
	}
	c = sp.Client(t)
	if r, asked := sp.signIn(t, c, "dev2@acme.example", "", office); asked || r.StatusCode != http.StatusSeeOther || !signedIn(t, c) {
		t.Fatalf("developer at a remembered location: %d asked=%v", r.StatusCode, asked)
	}

	// Neither group, challenged at a new location: the policy would deny
	// even after MFA, so no code is asked at all (nobody does MFA only to be
	// refused), and the location is not remembered.
	c = sp.Client(t)
	r, asked := sp.signIn(t, c, sam.Email, samSecret, cafe)
	if asked || r.StatusCode != http.StatusForbidden || signedIn(t, c) {
		t.Fatalf("sales at a new location: %d asked=%v", r.StatusCode, asked)
	}
	if locs, _ := sp.Store.Locations(ctx, sam.ID); len(locs) != 0 {
		t.Fatalf("a refused sign-in remembered %v", locs)
	}
	// Again: denied before any code is asked.
	c = sp.Client(t)
	r, asked = sp.signIn(t, c, sam.Email, samSecret, cafe)
	if asked || r.StatusCode != http.StatusForbidden || signedIn(t, c) {
		t.Fatalf("sales at a remembered location: %d asked=%v", r.StatusCode, asked)
	}
	m := refRE.FindStringSubmatch(r.Body)
	if m == nil || !strings.Contains(r.Body, "sign-in policy does not allow") {
		t.Fatalf("deny page:\n%s", r.Body)
	}
	if err := sp.rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := sp.Store.Decision(ctx, sp.org.ID, m[1])
	if err != nil || d.Action != "deny" || d.Point != "signin" {
		t.Fatalf("the referenced decision: %v %+v", err, d)
	}
}

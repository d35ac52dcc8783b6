package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"portico/authserver"
	"portico/federation/pool"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
	"portico/store/storetest"
)

// sessionCookieOf returns the browser's session cookie value.
func sessionCookieOf(t *testing.T, h *handlerstest.Harness, b *handlerstest.Client) string {
	t.Helper()
	u, _ := url.Parse(h.URL)
	for _, ck := range b.HTTP.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "portico_session") {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// withSessionCookie is a new browser holding only a copy of a session
// cookie, as a thief would.
func withSessionCookie(t *testing.T, h *handlerstest.Harness, value string) *handlerstest.Client {
	t.Helper()
	b := h.Client(t)
	u, _ := url.Parse(h.URL)
	b.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: "portico_session", Value: value, Path: "/"}})
	return b
}

func hasSession(b *handlerstest.Client) bool { return b.Get("/account").StatusCode == http.StatusOK }

// TestStepUpAtLaunchRotatesTheSession: after the second factor at a
// launch, the browser's session has a new token, and a copy of the old one
// opens nothing.
func TestStepUpAtLaunchRotatesTheSession(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	ctx := context.Background()
	c := lp.person(t, "dev@acme.example", "developers")
	u, err := lp.Store.UserByEmail(ctx, lp.org.ID, "dev@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	e, err := pool.NewEnrollment("Portico", u.Email)
	if err != nil {
		t.Fatal(err)
	}
	sealer := lp.Config.SignIn.Sealer
	if err := lp.Store.PutTOTP(ctx, u.ID, sealer.Seal([]byte(e.Secret), "totp:"+u.ID)); err != nil {
		t.Fatal(err)
	}
	if ok, err := lp.Store.AcceptTOTPStep(ctx, u.ID, 1, true); !ok || err != nil {
		t.Fatalf("confirm TOTP: %v %v", ok, err)
	}
	before := sessionCookieOf(t, lp.Harness, c)
	r, challenged := lp.launch(t, c, "81.2.69.160", map[*handlerstest.Client]string{c: e.Secret})
	if !challenged || !lp.landed(r) {
		t.Fatalf("launch: challenged %v, %d %s", challenged, r.StatusCode, r.Header.Get("Location"))
	}
	if after := sessionCookieOf(t, lp.Harness, c); after == before {
		t.Fatal("the session cookie did not change at step-up")
	}
	if !hasSession(c) {
		t.Fatal("the stepped-up browser lost its session")
	}
	if hasSession(withSessionCookie(t, lp.Harness, before)) {
		t.Fatal("the pre-step-up session cookie still opens the session")
	}
}

// TestPrivilegeChangeRotatesTheSession: when a user's role or
// platform-admin flag changes, whoever changed it, their next request gets
// a new session token and the old one stops working.
func TestPrivilegeChangeRotatesTheSession(t *testing.T) {
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	u := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	for _, change := range []struct {
		name string
		f    func(*store.User)
	}{
		{"role", func(x *store.User) { x.Role = store.RoleAdmin }},
		{"platform admin", func(x *store.User) { x.PlatformAdmin = true }},
	} {
		t.Run(change.name, func(t *testing.T) {
			b := h.Client(t)
			b.Login(u.Email, pw)
			before := sessionCookieOf(t, h, b)
			if _, _, err := h.Store.UpdateUser(context.Background(), org.ID, u.ID, func(x *store.User) error {
				change.f(x)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !hasSession(b) {
				t.Fatal("the user lost the session")
			}
			if sessionCookieOf(t, h, b) == before {
				t.Fatal("the session cookie did not change with the privileges")
			}
			if hasSession(withSessionCookie(t, h, before)) {
				t.Fatal("the cookie from before the change still opens the session")
			}
			if !hasSession(b) {
				t.Fatal("the rotated session does not last")
			}
		})
	}
}

// TestSessionsEndAtTheirAbsoluteLifetime: however active, a session ends
// seven days after sign-in by default, or after SessionMaxAge.
func TestSessionsEndAtTheirAbsoluteLifetime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		want   time.Duration
	}{{"default", 0, 7 * 24 * time.Hour}, {"configured", 36 * time.Hour, 36 * time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			h := handlerstest.New(t, func(c *handlers.Config) {
				c.Now, c.Store.Now, c.SessionMaxAge = clk.Now, clk.Now, tc.maxAge
			})
			org := h.Org(t, "acme", "acme.example")
			h.User(t, org, "ann@acme.example", store.RoleMember, pw)
			b := h.Client(t)
			b.Login("ann@acme.example", pw)
			start := clk.Now()
			for clk.Now().Sub(start) < tc.want-2*time.Hour {
				clk.Advance(2 * time.Hour) // well inside the 12-hour idle timeout
				if !hasSession(b) {
					t.Fatalf("signed out after %v of activity", clk.Now().Sub(start))
				}
			}
			clk.t = start.Add(tc.want + time.Minute)
			if hasSession(b) {
				t.Fatalf("still signed in %v after sign-in", tc.want+time.Minute)
			}
		})
	}
}

// TestSessionCookieOnHTTPSIsHostPrefixed: on an https issuer the session
// cookie is __Host-: Secure, Path=/, no Domain.
func TestSessionCookieOnHTTPSIsHostPrefixed(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, _ := store.NewSealer(key)
	const issuer = "https://portal.example"
	e, err := handlers.New(ctx, handlers.Config{Store: st, Issuer: issuer, Now: time.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SignIn: handlers.SignInConfig{Sealer: sealer}})
	if err != nil {
		t.Fatal(err)
	}
	org := store.Organization{Slug: "acme", Name: "Acme", Domains: []string{"acme.example"}}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	hash, _ := pool.HashPassword(pw)
	if err := st.CreateUser(ctx, &store.User{OrgID: org.ID, Email: "ann@acme.example", Name: "ann", Role: store.RoleMember, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(issuer)
	do := func(req *http.Request) *httptest.ResponseRecorder {
		for _, ck := range jar.Cookies(base) {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		jar.SetCookies(base, rec.Result().Cookies())
		return rec
	}
	page := do(httptest.NewRequest(http.MethodGet, issuer+"/login", nil))
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatal("no CSRF field on the login page")
	}
	form := url.Values{"email": {"ann@acme.example"}, "password": {pw}, "_csrf": {m[1]}}
	req := httptest.NewRequest(http.MethodPost, issuer+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", issuer)
	rec := do(req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", rec.Code, rec.Body)
	}
	var found bool
	for _, ck := range rec.Result().Cookies() {
		if strings.HasSuffix(ck.Name, "portico_session") {
			found = true
			if ck.Name != "__Host-portico_session" || !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
				t.Errorf("session cookie %+v", ck)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie set at sign-in")
	}
}

// TestSessionKeysAreSealed: the cookie keys are stored sealed under the
// portal's secret key; keys stored in the clear by an older version are
// sealed on start, and the cookies they made keep working.
func TestSessionKeysAreSealed(t *testing.T) {
	ctx := context.Background()
	hashKey, blockKey := bytes.Repeat([]byte{3}, 64), bytes.Repeat([]byte{4}, 32)
	var old http.Cookie
	var user store.User
	h := handlerstest.New(t, func(c *handlers.Config) {
		// What an older version left behind: keys in the clear and a
		// session made with them.
		if err := c.Store.PutSetting(ctx, "session.hash_key", hashKey); err != nil {
			t.Fatal(err)
		}
		if err := c.Store.PutSetting(ctx, "session.block_key", blockKey); err != nil {
			t.Fatal(err)
		}
		org := store.Organization{Slug: "acme", Name: "Acme", Domains: []string{"acme.example"}}
		if err := c.Store.CreateOrganization(ctx, &org); err != nil {
			t.Fatal(err)
		}
		user = store.User{OrgID: org.ID, Email: "ann@acme.example", Name: "ann", Role: store.RoleMember}
		if err := c.Store.CreateUser(ctx, &user); err != nil {
			t.Fatal(err)
		}
		const token = "a-session-token-from-before-the-upgrade-0123456789"
		sum := sha256.Sum256([]byte(token))
		now := time.Now()
		s := store.Session{UserID: user.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := c.Store.CreateSession(ctx, &s, hex.EncodeToString(sum[:])); err != nil {
			t.Fatal(err)
		}
		cs := sessions.NewCookieStore(hashKey, blockKey)
		rec := httptest.NewRecorder()
		sess, _ := cs.New(httptest.NewRequest(http.MethodGet, "/", nil), "portico_session")
		sess.Values["t"] = token
		if err := sess.Save(httptest.NewRequest(http.MethodGet, "/", nil), rec); err != nil {
			t.Fatal(err)
		}
		old = *rec.Result().Cookies()[0]
	})
	for _, k := range []struct {
		name  string
		clear []byte
	}{{"session.hash_key", hashKey}, {"session.block_key", blockKey}} {
		stored, err := h.Store.Setting(ctx, k.name)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, k.clear) {
			t.Errorf("%s is still stored in the clear", k.name)
		}
		if opened, err := h.Config.SignIn.Sealer.Open(stored, k.name); err != nil || !bytes.Equal(opened, k.clear) {
			t.Errorf("%s does not open to the old key: %v", k.name, err)
		}
	}
	if stored, err := h.Store.Setting(ctx, "csrf.key"); err != nil || len(stored) == 32 {
		t.Errorf("csrf.key: %d bytes, %v; want a sealed value", len(stored), err)
	}
	b := withSessionCookie(t, h, old.Value)
	if !hasSession(b) {
		t.Fatal("a session from before the upgrade was signed out")
	}
}

// TestAnonymousCSRFTokenIsBoundToTheBrowser: before sign-in the token
// belongs to the browser; another browser's token does not work, nor does
// the raw cookie value (the token is a MAC of it, not a copy).
func TestAnonymousCSRFTokenIsBoundToTheBrowser(t *testing.T) {
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	a, b := h.Client(t), h.Client(t)
	tokenB := b.CSRF()
	form := func(tok string) url.Values {
		return url.Values{"email": {"ann@acme.example"}, "password": {pw}, "_csrf": {tok}}
	}
	if r := a.PostRaw("/login", form(tokenB)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another browser's token: %d, want 403", r.StatusCode)
	}
	a.CSRF()
	u, _ := url.Parse(h.URL)
	for _, ck := range a.HTTP.Jar.Cookies(u) {
		if strings.HasSuffix(ck.Name, "portico_csrf") {
			if r := a.PostRaw("/login", form(ck.Value)); r.StatusCode != http.StatusForbidden {
				t.Fatalf("the cookie value as token: %d, want 403", r.StatusCode)
			}
		}
	}
	if r := a.PostRaw("/login", form(a.CSRF())); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the browser's own token: %d, want 303", r.StatusCode)
	}
	// After sign-in the pre-sign-in token is worthless: the token now
	// belongs to the session.
	if r := a.PostRaw("/logout", url.Values{"_csrf": {tokenB}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("pre-sign-in token after sign-in: %d, want 403", r.StatusCode)
	}
}

// stepUpGate asks for step-up MFA at authorize unless the session has done
// MFA.
type stepUpGate struct{}

func (stepUpGate) Check(_ context.Context, r authserver.GateRequest) (authserver.Verdict, error) {
	if r.Point == authserver.PointAuthorize && r.Context.MFAAt.IsZero() {
		return authserver.Verdict{Action: authserver.Challenge, Reason: "step-up"}, nil
	}
	return authserver.Verdict{Action: authserver.Permit}, nil
}

// TestStepUpAtSignInMFARotatesTheSession: when an app's policy asks a
// signed-in user for a second factor on the sign-in MFA page, passing it
// replaces the session's token.
func TestStepUpAtSignInMFARotatesTheSession(t *testing.T) {
	p := newConsentPortal(t, func(c *authserver.Config) { c.Gate = authserver.Chain{authserver.DefaultGate{}, stepUpGate{}} })
	ctx := context.Background()
	if _, err := p.srv.Registrar().SetFirstParty(ctx, p.app.OrgID, p.app.ClientID, authserver.Actor{Label: "test"}, true); err != nil {
		t.Fatal(err)
	}
	b := p.h.Client(t)
	b.Login(p.user.Email, pw)
	e, err := pool.NewEnrollment("Portico", p.user.Email)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Store.PutTOTP(ctx, p.user.ID, p.h.Config.SignIn.Sealer.Seal([]byte(e.Secret), "totp:"+p.user.ID)); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.h.Store.AcceptTOTPStep(ctx, p.user.ID, 1, true); !ok || err != nil {
		t.Fatalf("confirm TOTP: %v %v", ok, err)
	}
	before := sessionCookieOf(t, p.h, b)
	r, _ := p.authorize(t, b, "openid", nil)
	m := regexp.MustCompile(`name="state" value="([^"]+)"`).FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("no step-up page: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	code, _ := pool.TOTPCode(e.Secret, time.Now())
	r = b.Post("/login/mfa", url.Values{"state": {m[1]}, "code": {code}})
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "code=") {
		t.Fatalf("after the second factor: %d %s\n%s", r.StatusCode, loc, r.Body)
	}
	if sessionCookieOf(t, p.h, b) == before {
		t.Fatal("the session cookie did not change at step-up")
	}
	if !hasSession(b) {
		t.Fatal("the stepped-up browser lost its session")
	}
	if hasSession(withSessionCookie(t, p.h, before)) {
		t.Fatal("the pre-step-up session cookie still opens the session")
	}
}

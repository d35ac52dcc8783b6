package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/handlers/handlerstest"
	"portico/store"
)

const pw = "correct horse battery staple"

func TestSecurityHeadersOnEveryPage(t *testing.T) {
	h := handlerstest.New(t)
	c := h.Client(t)
	for _, path := range []string{"/login", "/no-such-page", "/healthz", "/static/css/portico.css"} {
		r := c.Get(path)
		hd := r.Header
		csp := hd.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "same-origin" ||
			hd.Get("X-Frame-Options") != "DENY" || hd.Get("Cross-Origin-Opener-Policy") != "same-origin" ||
			hd.Get("Permissions-Policy") != "camera=(), microphone=(), geolocation=()" {
			t.Errorf("%s: headers %v", path, hd)
		}
		for name, v := range hd {
			if len(v) != 1 && name != "Set-Cookie" && name != "Vary" {
				t.Errorf("%s: header %s sent %d times: %q", path, name, len(v), v)
			}
		}
	}
}

// TestEveryResponseHasItsOwnRequestID: X-Request-ID is 32 letters and
// differs from one response to the next; one the caller sent is kept.
func TestEveryResponseHasItsOwnRequestID(t *testing.T) {
	h := handlerstest.New(t)
	seen := map[string]bool{}
	for range 50 {
		resp, err := http.Get(h.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("X-Request-Id")
		if len(id) != 32 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("request ID %q", id)
		}
		if seen[id] {
			t.Fatalf("request ID %q twice", id)
		}
		seen[id] = true
	}
	req, _ := http.NewRequest(http.MethodGet, h.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "from-the-proxy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "from-the-proxy" {
		t.Fatalf("request ID %q, want the caller's", got)
	}
}

func TestFormPostWithoutCSRFTokenIsRefused(t *testing.T) {
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	c := h.Client(t)
	c.Get("/login") // receives the CSRF cookie, as a browser would

	cases := []struct {
		name string
		form url.Values
	}{
		{"missing token", url.Values{"email": {"ann@acme.example"}, "password": {pw}}},
		{"wrong token", url.Values{"email": {"ann@acme.example"}, "password": {pw}, "_csrf": {strings.Repeat("x", 43)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.PostRaw("/login", tc.form)
			if r.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", r.StatusCode)
			}
			if !strings.Contains(r.Body, "did not come from Portico") {
				t.Errorf("no explanation in the page:\n%s", r.Body)
			}
		})
	}
	t.Run("cross-site fetch metadata", func(t *testing.T) {
		form := url.Values{"email": {"ann@acme.example"}, "password": {pw}, "_csrf": {c.CSRF()}}
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	})
}

func TestSignInRenewsSessionAndSignOutEndsIt(t *testing.T) {
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	u := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	c := h.Client(t)

	if r := c.Get("/"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous home: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	r := c.Post("/login", url.Values{"email": {"ANN@acme.example"}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", r.StatusCode, r.Body)
	}
	var sessionCookie *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "portico_session" {
			sessionCookie = ck
		}
	}
	if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", sessionCookie)
	}
	if r := c.Get("/"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Welcome, ann") {
		t.Fatalf("home after sign-in: %d", r.StatusCode)
	}
	first, _ := h.Store.UserSessions(context.Background(), u.ID, h.Config.Now())
	c.Login("ann@acme.example", pw) // signing in again replaces the session
	second, _ := h.Store.UserSessions(context.Background(), u.ID, h.Config.Now())
	if len(first) != 1 || len(second) != 1 || first[0].ID == second[0].ID {
		t.Fatalf("session not renewed: before %v after %v", first, second)
	}
	if r := c.Post("/logout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.StatusCode)
	}
	if left, _ := h.Store.UserSessions(context.Background(), u.ID, h.Config.Now()); len(left) != 0 {
		t.Fatalf("sessions left after sign-out: %v", left)
	}
	if r := c.Get("/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("home after sign-out: %d", r.StatusCode)
	}
}

func TestWrongPasswordsSlowDownThenLock(t *testing.T) {
	t.Parallel()
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	c := h.Client(t)
	for i := 1; i <= 5; i++ {
		r := c.Post("/login", url.Values{"email": {"ann@acme.example"}, "password": {"wrong password!"}})
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		if r.StatusCode != want {
			t.Fatalf("attempt %d: status %d, want %d", i, r.StatusCode, want)
		}
		if i < 5 && !strings.Contains(r.Body, "incorrect") {
			t.Fatalf("attempt %d: no error message", i)
		}
	}
	r := c.Post("/login", url.Values{"email": {"ann@acme.example"}, "password": {pw}})
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.Body, "Too many failed sign-in attempts") {
		t.Fatalf("right password while locked: %d\n%s", r.StatusCode, r.Body)
	}
	// The lock is kept in the database (signin_throttle_test.go shows it
	// holds only for this network).
	var n int
	if err := h.Store.DB().QueryRow(`SELECT COUNT(*) FROM auth_throttle WHERE locked_until > 0`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("locks in the database: %d %v", n, err)
	}
}

func TestUnknownEmailLooksLikeWrongPassword(t *testing.T) {
	h := handlerstest.New(t)
	c := h.Client(t)
	r := c.Post("/login", url.Values{"email": {"nobody@nowhere.example"}, "password": {pw}})
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "The email or password is incorrect.") {
		t.Fatalf("%d\n%s", r.StatusCode, r.Body)
	}
}

func TestRedirectAfterSignInStaysInThePortal(t *testing.T) {
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"} {
		c := h.Client(t)
		r := c.Post("/login", url.Values{"email": {"ann@acme.example"}, "password": {pw}, "next": {next}})
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestHTMLInjectionIsEscaped(t *testing.T) {
	h := handlerstest.New(t)
	c := h.Client(t)
	r := c.Post("/login", url.Values{"email": {`"><script>alert(1)</script>`}, "password": {"x"}})
	if strings.Contains(r.Body, "<script>alert(1)") {
		t.Fatal("user input reached the page unescaped")
	}
	if !strings.Contains(r.Body, "&lt;script&gt;alert(1)") {
		t.Fatal("the input is not echoed at all, so this test would prove nothing")
	}
}

func TestErrorPagesAreSafeAndInTheLayout(t *testing.T) {
	h := handlerstest.New(t)
	c := h.Client(t)
	r := c.Get("/no-such-page")
	if r.StatusCode != http.StatusNotFound || !strings.Contains(r.Body, "This page does not exist.") ||
		!strings.Contains(r.Body, "portico.css") {
		t.Fatalf("%d\n%s", r.StatusCode, r.Body)
	}
	req, _ := http.NewRequest(http.MethodGet, h.URL+"/no-such-page", nil)
	req.Header.Set("Accept", "application/json")
	resp, _ := c.HTTP.Do(req)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("API clients get %s", ct)
	}
}

func TestHealthz(t *testing.T) {
	h := handlerstest.New(t)
	if r := h.Client(t).Get("/healthz"); r.StatusCode != http.StatusOK {
		t.Fatalf("%d", r.StatusCode)
	}
	h.Store.Close()
	if r := h.Client(t).Get("/healthz"); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("closed database: %d", r.StatusCode)
	}
}

func TestSuspendingAnOrganizationEndsItsSessions(t *testing.T) {
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	c := h.Client(t)
	c.Login("ann@acme.example", pw)
	if _, _, err := h.Store.UpdateOrganization(context.Background(), org.ID, func(o *store.Organization) error {
		o.Status = store.OrgSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := c.Get("/")
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "suspended") {
		t.Fatalf("%d\n%s", r.StatusCode, r.Body)
	}
	r = c.Post("/login", url.Values{"email": {"ann@acme.example"}, "password": {pw}})
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "suspended") {
		t.Fatalf("sign-in while suspended: %d\n%s", r.StatusCode, r.Body)
	}
}

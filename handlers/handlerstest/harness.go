// Package handlerstest starts the portal for tests exactly as production
// builds it (handlers.New over a real SQLite file in a temporary directory,
// served by an httptest server on 127.0.0.1) and gives tests browser-like
// clients with cookie jars that fill in the CSRF field like a form would.
package handlerstest

import (
	"context"
	"crypto/rand"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portico/federation/pool"
	"portico/handlers"
	"portico/store"
	"portico/store/storetest"
)

// Harness is a running portal.
type Harness struct {
	Server *httptest.Server
	Store  *store.Store
	URL    string
	// DSN names the database, for a test that opens a second Store on it
	// (another replica, the CLI).
	DSN string
	// Config is what handlers.New was given; tests may inspect it.
	Config handlers.Config
}

// Option changes the configuration before the server is built.
type Option func(*handlers.Config)

// New starts a portal on a fresh database.
func New(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	ctx := context.Background()
	dsn := storetest.DSN(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := handlers.Config{
		Store:  st,
		Issuer: "http://" + srv.Listener.Addr().String(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    time.Now,
		// Test IdPs are httptest servers on 127.0.0.1, which the upstream
		// guard refuses unless the operator allows them, as here.
		UpstreamAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		SignIn:        handlers.SignInConfig{Sealer: sealer},
	}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := handlers.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = e
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &Harness{Server: srv, Store: st, URL: srv.URL, Config: cfg, DSN: dsn}
}

// Org creates an organization.
func (h *Harness) Org(t testing.TB, slug string, domains ...string) store.Organization {
	t.Helper()
	o := store.Organization{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:], Domains: domains}
	if err := h.Store.CreateOrganization(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// User creates an identity-pool user with a password in org.
func (h *Harness) User(t testing.TB, org store.Organization, email string, role store.Role, password string) store.User {
	t.Helper()
	hash, err := pool.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{OrgID: org.ID, Email: email, EmailVerified: true, Name: strings.Split(email, "@")[0],
		Role: role, PasswordHash: hash}
	if err := h.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// Client is one browser: a cookie jar and no automatic redirects, so tests
// see each 303.
type Client struct {
	t    testing.TB
	h    *Harness
	HTTP *http.Client
}

// Client returns a new anonymous browser.
func (h *Harness) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, h: h, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a finished request with its body read.
type Response struct {
	*http.Response
	Body string
}

func (c *Client) do(req *http.Request) Response {
	c.t.Helper()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Response: resp, Body: string(b)}
}

// Get fetches path.
func (c *Client) Get(path string) Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.h.URL+path, nil)
	return c.do(req)
}

// CSRF returns the token the portal puts in this browser's forms now (it
// is bound to the session, so it changes at sign-in), read from a page as
// a browser would see it.
func (c *Client) CSRF() string {
	c.t.Helper()
	for _, path := range []string{"/login", "/account", "/account/password"} {
		r := c.Get(path)
		if m := csrfInput.FindStringSubmatch(r.Body); m != nil {
			return html.UnescapeString(m[1])
		}
	}
	c.t.Fatal("no page with a CSRF field")
	return ""
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// Post submits a form to path with the CSRF field filled in, as a page's
// form would.
func (c *Client) Post(path string, form url.Values) Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.CSRF())
	}
	return c.PostRaw(path, form)
}

// PostRaw submits a form exactly as given (no CSRF field added).
func (c *Client) PostRaw(path string, form url.Values) Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.h.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// Login signs in with email and password and fails the test unless the
// portal answers with the redirect of a successful sign-in.
func (c *Client) Login(email, password string) {
	c.t.Helper()
	r := c.Post("/login", url.Values{"email": {email}, "password": {password}})
	if r.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign-in as %s: status %d\n%s", email, r.StatusCode, r.Body)
	}
}

// ClientFor returns a new anonymous browser for a portal running at
// baseURL that this package did not start (the full server of cmd/portico).
func ClientFor(t testing.TB, baseURL string) *Client {
	return (&Harness{URL: baseURL}).Client(t)
}

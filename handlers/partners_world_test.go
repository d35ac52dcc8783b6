package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/argon2"

	"portico/authserver"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/scim"
	"portico/store"
)

// clock is a test's own settable clock; each test has its own, so nothing
// is shared between tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Persona names the kinds of viewer the authorization tests try.
type persona string

const (
	anonymous     persona = "anonymous"
	member        persona = "member"
	developer     persona = "developer"
	orgAdmin      persona = "org admin"
	otherOrgAdmin persona = "other org admin"
	platformAdmin persona = "platform admin"
)

var personas = []persona{anonymous, member, developer, orgAdmin, otherOrgAdmin, platformAdmin}

// world is a portal with three organizations: acme (the one the tests act
// on, with a member, a developer and an admin, on the gold plan), globex
// (another partner, with an admin and a developer) and staff (the platform
// operator, whose admin is a platform admin). The embedded authorization
// server is wired in, so the Apps pages exist. Each persona gets its own
// browser, signed in through the real /login form on first use.
type world struct {
	h       *handlerstest.Harness
	clock   *clock
	oauth   *authserver.Server
	reg     *authserver.Registrar
	acme    store.Organization
	globex  store.Organization
	staff   store.Organization
	gold    store.Plan
	users   map[persona]store.User
	clients map[persona]*handlerstest.Client
	globDev store.User
	hash    string // of pw
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	clk := newClock()
	w := &world{clock: clk, users: map[persona]store.User{}, clients: map[persona]*handlerstest.Client{}}
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	w.h = handlerstest.New(t, func(c *handlers.Config) {
		c.Now = clk.Now
		c.Store.Now = clk.Now
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry()}
		srv, err := authserver.New(authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: sealer,
			AllowInsecure: true, CacheRevalidate: -1, Now: clk.Now,
			LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) }})
		if err != nil {
			t.Fatal(err)
		}
		w.oauth, w.reg, c.OAuth, c.Issuers = srv, srv.Registrar(), srv, srv.Issuers()
		dir, err := scim.New(context.Background(), c.Store, c.Issuer, clk.Now, c.Logger)
		if err != nil {
			t.Fatal(err)
		}
		c.SCIM = dir
	})
	h := w.h
	for _, sc := range []string{"payments:read", "payments:write", "reports:read"} {
		if err := h.Store.CreateScope(ctx, &store.Scope{Name: sc, Description: "test scope " + sc}); err != nil {
			t.Fatal(err)
		}
	}
	w.gold = w.plan(t, "gold", store.Feature{Name: "payments", Scopes: []string{"payments:read", "payments:write"},
		AppTypes: []string{"web", "spa", "native", "service"}})
	w.acme = h.Org(t, "acme", "acme.example")
	if _, o, err := h.Store.UpdateOrganization(ctx, w.acme.ID, func(o *store.Organization) error {
		o.PlanID = w.gold.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	} else {
		w.acme = o
	}
	w.globex = h.Org(t, "globex", "globex.example")
	w.staff = h.Org(t, "staff", "portico.example")
	w.hash = cheapHash(pw)
	w.users[member] = w.user(t, w.acme, "mia@acme.example", store.RoleMember)
	w.users[developer] = w.user(t, w.acme, "dev@acme.example", store.RoleDeveloper)
	w.users[orgAdmin] = w.user(t, w.acme, "ada@acme.example", store.RoleAdmin)
	w.users[otherOrgAdmin] = w.user(t, w.globex, "gus@globex.example", store.RoleAdmin)
	w.globDev = w.user(t, w.globex, "gil@globex.example", store.RoleDeveloper)
	pa := w.user(t, w.staff, "root@portico.example", store.RoleAdmin)
	pa.PlatformAdmin = true
	if _, pa2, err := h.Store.UpdateUser(ctx, w.staff.ID, pa.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	} else {
		pa = pa2
	}
	w.users[platformAdmin] = pa
	return w
}

// cheapHash is an argon2id hash of password in the identity pool's PHC
// format with tiny parameters. The pool reads the parameters from the stored
// hash, so these accounts sign in through the real /login in microseconds:
// the matrix signs in hundreds of times, and what it tests is
// authorization, not hashing.
func cheapHash(password string) string {
	salt := []byte("portico-test-salt")
	key := argon2.IDKey([]byte(password), salt, 1, 64, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=64,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// user creates an identity-pool account whose password is pw.
func (w *world) user(t *testing.T, org store.Organization, email string, role store.Role) store.User {
	t.Helper()
	u := store.User{OrgID: org.ID, Email: email, EmailVerified: true, Name: strings.Split(email, "@")[0],
		Role: role, PasswordHash: w.hash}
	if err := w.h.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// as returns persona's browser, signing in through /login the first time.
func (w *world) as(t *testing.T, p persona) *handlerstest.Client {
	t.Helper()
	if c, ok := w.clients[p]; ok {
		return c
	}
	c := w.h.Client(t)
	if p != anonymous {
		c.Login(w.users[p].Email, pw)
	}
	w.clients[p] = c
	return c
}

// echoOf returns the echo instance behind the harness, to list its routes.
func (w *world) echo(t *testing.T) *echo.Echo {
	e, ok := w.h.Server.Config.Handler.(*echo.Echo)
	if !ok {
		t.Fatalf("the harness serves %T, not *echo.Echo", w.h.Server.Config.Handler)
	}
	return e
}

// plan creates a plan directly in the store.
func (w *world) plan(t *testing.T, slug string, features ...store.Feature) store.Plan {
	t.Helper()
	p := store.Plan{Slug: slug, Name: slug, Features: features}
	if err := w.h.Store.CreatePlan(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// invite has acme's admin invite email as role and returns the link's path.
func (w *world) invite(t *testing.T, email string, role store.Role) string {
	t.Helper()
	admin := w.as(t, orgAdmin)
	r := inviteShown(t, admin, admin.Post("/org/invitations", url.Values{"email": {email}, "role": {string(role)}, "ttl": {"24h"}}))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("invite %s: status %d\n%s", email, r.StatusCode, r.Body)
	}
	m := inviteLinkRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no invitation link on the page:\n%s", r.Body)
	}
	return m[1]
}

// inviteShown follows an invitation's post/redirect/get: the POST
// redirects to the one-time reveal, whose page is returned; opening it
// again shows the invitation no more.
func inviteShown(t *testing.T, c *handlerstest.Client, r handlerstest.Response) handlerstest.Response {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "reveal=") {
		t.Fatalf("an invitation answered %d (Location %q), want a redirect to a one-time reveal\n%s", r.StatusCode, loc, r.Body)
	}
	shown := c.Get(loc)
	if cc := shown.Header.Get("Cache-Control"); shown.StatusCode == http.StatusOK && !strings.Contains(cc, "no-store") {
		t.Errorf("the invitation's page may be cached: Cache-Control %q", cc)
	}
	if again := c.Get(loc); again.StatusCode != http.StatusOK || !strings.Contains(again.Body, `id="reveal-gone"`) ||
		strings.Contains(again.Body, `id="new-invitation"`) {
		t.Errorf("a reload of %s shows the invitation again or fails: %d", loc, again.StatusCode)
	}
	return shown
}

var inviteLinkRE = regexp.MustCompile(`id="invite-link">https?://[^/]+(/invite/[A-Za-z0-9_-]+)<`)

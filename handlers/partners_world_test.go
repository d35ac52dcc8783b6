package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"portico/handlers"
	"portico/handlers/handlerstest"
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
// on, with a member, a developer and an admin), globex (another partner,
// with an admin and a developer) and staff (the platform operator, whose
// admin is a platform admin). Every persona is signed in through the real
// /login form in its own browser.
type world struct {
	h       *handlerstest.Harness
	clock   *clock
	acme    store.Organization
	globex  store.Organization
	staff   store.Organization
	users   map[persona]store.User
	clients map[persona]*handlerstest.Client
	globDev store.User
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clk := newClock()
	h := handlerstest.New(t, func(c *handlers.Config) { c.Now = clk.Now })
	h.Store.Now = clk.Now
	w := &world{h: h, clock: clk, users: map[persona]store.User{}, clients: map[persona]*handlerstest.Client{}}
	w.acme = h.Org(t, "acme", "acme.example")
	w.globex = h.Org(t, "globex", "globex.example")
	w.staff = h.Org(t, "staff", "portico.example")
	w.users[member] = h.User(t, w.acme, "mia@acme.example", store.RoleMember, pw)
	w.users[developer] = h.User(t, w.acme, "dev@acme.example", store.RoleDeveloper, pw)
	w.users[orgAdmin] = h.User(t, w.acme, "ada@acme.example", store.RoleAdmin, pw)
	w.users[otherOrgAdmin] = h.User(t, w.globex, "gus@globex.example", store.RoleAdmin, pw)
	w.globDev = h.User(t, w.globex, "gil@globex.example", store.RoleDeveloper, pw)
	pa := h.User(t, w.staff, "root@portico.example", store.RoleAdmin, pw)
	if _, pa2, err := h.Store.UpdateUser(context.Background(), w.staff.ID, pa.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	} else {
		pa = pa2
	}
	w.users[platformAdmin] = pa
	for _, p := range personas {
		c := h.Client(t)
		if p != anonymous {
			c.Login(w.users[p].Email, pw)
		}
		w.clients[p] = c
	}
	return w
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
	r := w.clients[orgAdmin].Post("/org/invitations", url.Values{"email": {email}, "role": {string(role)}, "ttl": {"24h"}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("invite %s: status %d\n%s", email, r.StatusCode, r.Body)
	}
	m := inviteLinkRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no invitation link on the page:\n%s", r.Body)
	}
	return m[1]
}

var inviteLinkRE = regexp.MustCompile(`id="invite-link">https?://[^/]+(/invite/[A-Za-z0-9_-]+)<`)

package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"portico/partners"
	"portico/store"
)

// routeCase is how one registered route is exercised: the concrete path
// (its parameters filled with acme's objects), the form to post, and the
// status each persona must get.
type routeCase struct {
	path string
	form url.Values
	want map[persona]int
}

// want lists statuses in the order anonymous, member, developer, org admin,
// other org admin, platform admin.
func want(anon, mem, dev, adm, other, plat int) map[persona]int {
	return map[persona]int{anonymous: anon, member: mem, developer: dev, orgAdmin: adm, otherOrgAdmin: other, platformAdmin: plat}
}

// fixtures are acme's objects that route parameters point at.
type fixtures struct {
	planSlug     string
	inviteID     string
	inviteToken  string
	developerID  string
	memberID     string
	otherSession string
}

func makeFixtures(t *testing.T, w *world) fixtures {
	t.Helper()
	ctx := context.Background()
	w.plan(t, "gold", store.Feature{Name: "payments", Scopes: []string{"payments:read"}, AppTypes: []string{"service"}})
	svc := &partners.Service{Store: w.h.Store, Now: w.clock.Now}
	inv, err := svc.Invite(ctx, partners.CLIManager("test"), w.acme.ID, partners.InviteInput{Email: "new@acme.example", Role: store.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := w.h.Store.UserSessions(ctx, w.users[member].ID, w.clock.Now())
	if err != nil || len(sess) == 0 {
		t.Fatalf("member has no session: %v", err)
	}
	return fixtures{planSlug: "gold", inviteID: inv.Invitation.ID, inviteToken: inv.Token,
		developerID: w.users[developer].ID, memberID: w.users[member].ID, otherSession: sess[0].ID}
}

const (
	ok   = http.StatusOK
	see  = http.StatusSeeOther
	unau = http.StatusUnauthorized
	forb = http.StatusForbidden
	nf   = http.StatusNotFound
	unpr = http.StatusUnprocessableEntity
	bad  = http.StatusBadRequest
)

// matrix is the expected table, keyed by "METHOD route" as echo registered
// it. Every route must have an entry: a new route without one fails
// TestAuthorizationMatrix, so nobody adds a page without deciding who may
// use it. acme's objects are used throughout, so "other org admin" and
// "platform admin" (who sits in the staff organization) show what a
// cross-organization ID gets: 404.
func matrix(fx fixtures) map[string]routeCase {
	none := url.Values{}
	return map[string]routeCase{
		"GET /healthz": {path: "/healthz", want: want(ok, ok, ok, ok, ok, ok)},
		"GET /":        {path: "/", want: want(see, ok, ok, ok, ok, ok)},
		"GET /static*": {path: "/static/css/portico.css", want: want(ok, ok, ok, ok, ok, ok)},
		"GET /login":   {path: "/login", want: want(ok, see, see, see, see, see)},
		"POST /login":  {path: "/login", form: none, want: want(unpr, unpr, unpr, unpr, unpr, unpr)},
		"POST /logout": {path: "/logout", form: none, want: want(see, see, see, see, see, see)},
		"GET /account": {path: "/account", want: want(see, ok, ok, ok, ok, ok)},
		"POST /account/locations/forget": {path: "/account/locations/forget", form: none,
			want: want(unau, bad, bad, bad, bad, bad)},
		// Another person's session ID ends nothing: the lookup is by the
		// viewer's own user.
		"POST /account/sessions/:id/end": {path: "/account/sessions/" + fx.otherSession + "/end", form: none,
			want: want(unau, see, see, see, see, see)},

		"GET /admin/orgs":       {path: "/admin/orgs", want: want(see, forb, forb, forb, forb, ok)},
		"GET /admin/orgs/new":   {path: "/admin/orgs/new", want: want(see, forb, forb, forb, forb, ok)},
		"POST /admin/orgs":      {path: "/admin/orgs", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"GET /admin/orgs/:slug": {path: "/admin/orgs/acme", want: want(see, forb, forb, forb, forb, ok)},
		"POST /admin/orgs/:slug": {path: "/admin/orgs/acme", form: url.Values{"slug": {"acme"}, "name": {"Acme Corp"}},
			want: want(unau, forb, forb, forb, forb, see)},
		"POST /admin/orgs/:slug/suspend": {path: "/admin/orgs/acme/suspend", form: none,
			want: want(unau, forb, forb, forb, forb, see)},
		"POST /admin/orgs/:slug/reactivate": {path: "/admin/orgs/acme/reactivate", form: none,
			want: want(unau, forb, forb, forb, forb, see)},

		"GET /admin/plans":       {path: "/admin/plans", want: want(see, forb, forb, forb, forb, ok)},
		"GET /admin/plans/new":   {path: "/admin/plans/new", want: want(see, forb, forb, forb, forb, ok)},
		"POST /admin/plans":      {path: "/admin/plans", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"GET /admin/plans/:slug": {path: "/admin/plans/" + fx.planSlug, want: want(see, forb, forb, forb, forb, ok)},
		"POST /admin/plans/:slug": {path: "/admin/plans/" + fx.planSlug, form: url.Values{"slug": {"gold"}, "name": {"Gold"}},
			want: want(unau, forb, forb, forb, forb, see)},

		// Org admins work on their own organization; the other org's admin
		// and the platform admin (an admin of staff) see their own members.
		"GET /org/members": {path: "/org/members", want: want(see, forb, forb, ok, ok, ok)},
		"POST /org/members/:id/role": {path: "/org/members/" + fx.developerID + "/role", form: url.Values{"role": {"member"}},
			want: want(unau, forb, forb, see, nf, nf)},
		"POST /org/members/:id/remove": {path: "/org/members/" + fx.memberID + "/remove", form: none,
			want: want(unau, forb, forb, see, nf, nf)},
		"POST /org/invitations": {path: "/org/invitations", form: url.Values{"email": {"fresh@example.com"}, "role": {"member"}},
			want: want(unau, forb, forb, ok, ok, ok)},
		"POST /org/invitations/:id/revoke": {path: "/org/invitations/" + fx.inviteID + "/revoke", form: none,
			want: want(unau, forb, forb, see, nf, nf)},

		// The invitation link is its own credential: public by design. The
		// empty form changes nothing.
		"GET /invite/:token":  {path: "/invite/" + fx.inviteToken, want: want(ok, ok, ok, ok, ok, ok)},
		"POST /invite/:token": {path: "/invite/" + fx.inviteToken, form: none, want: want(unpr, unpr, unpr, unpr, unpr, unpr)},

		"GET /audit": {path: "/audit", want: want(see, forb, forb, ok, ok, ok)},
	}
}

// order runs the acme admin before the platform admin and the other
// organization's admin, so a change the acme admin makes cannot hide a
// refusal: cross-organization requests get 404 whether or not the object
// still exists.
var order = []persona{anonymous, member, developer, otherOrgAdmin, orgAdmin, platformAdmin}

// TestAuthorizationMatrix requests every route echo has registered as every
// persona and compares the status with the table. Reads share one portal;
// each state-changing route gets a fresh one, so one route's effect cannot
// decide another's result.
func TestAuthorizationMatrix(t *testing.T) {
	shared := newWorld(t)
	sharedFx := makeFixtures(t, shared)
	table := matrix(sharedFx)

	seen := map[string]bool{}
	var keys []string
	for _, r := range shared.echo(t).Routes() {
		if r.Method == "echo_route_not_found" {
			continue // the 404 handlers echo adds for groups with middleware
		}
		key := r.Method + " " + r.Path
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			if _, ok := table[key]; !ok {
				t.Fatalf("route %s has no entry in the authorization matrix: decide who may use it", key)
			}
			w, fx := shared, sharedFx
			if !strings.HasPrefix(key, "GET ") {
				w = newWorld(t)
				fx = makeFixtures(t, w)
			}
			rc := matrix(fx)[key]
			for _, p := range order {
				c := w.clients[p]
				var status int
				var body string
				if rc.form != nil {
					// A copy: Post fills in this browser's CSRF token.
					r := c.Post(rc.path, maps.Clone(rc.form))
					status, body = r.StatusCode, r.Body
				} else {
					r := c.Get(rc.path)
					status, body = r.StatusCode, r.Body
				}
				if status != rc.want[p] {
					t.Errorf("%s as %s: status %d, want %d\n%s", rc.path, p, status, rc.want[p], errorMessage(body))
				}
			}
		})
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("the matrix lists %s, which is not registered: remove the entry", key)
		}
	}
}

// errorMessage pulls the safe message out of an error page, for failure
// output that fits on a line.
func errorMessage(body string) string {
	if i := strings.Index(body, `id="error-message">`); i >= 0 {
		rest := body[i+len(`id="error-message">`):]
		if j := strings.IndexByte(rest, '<'); j >= 0 {
			return rest[:j]
		}
	}
	if len(body) > 300 {
		return body[:300]
	}
	return body
}

package handlers_test

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"portico/authserver"
	"portico/handlers"
	"portico/handlers/adminapi"
	"portico/handlers/handlerstest"
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
	// fresh gives every persona new objects to act on, for changes that
	// would otherwise decide the next persona's result (a secret revoked
	// by one cannot be revoked by the next).
	fresh bool
}

// want lists statuses in the order anonymous, member, developer, org admin,
// other org admin, platform admin.
func want(anon, mem, dev, adm, other, plat int) map[persona]int {
	return map[persona]int{anonymous: anon, member: mem, developer: dev, orgAdmin: adm, otherOrgAdmin: other, platformAdmin: plat}
}

// same is one status for every persona.
func same(status int) map[persona]int { return want(status, status, status, status, status, status) }

// fixtures are acme's objects that route parameters point at.
type fixtures struct {
	planSlug     string
	clientID     string
	clientName   string
	secretID     string
	regTokenID   string
	inviteID     string
	inviteToken  string
	victimDevID  string // a developer and a member of acme to change and remove
	victimID     string
	victimEmail  string
	groupID      string // a local group of acme with the victim in it
	otherSession string
	apiID        string // an API of acme's
	issuerID     string // acme's trusted token issuer
	apiTokenID   string // an admin API token of acme's
}

func makeFixtures(t *testing.T, w *world) fixtures {
	t.Helper()
	ctx := context.Background()
	svc := &partners.Service{Store: w.h.Store, Now: w.clock.Now}
	inv, err := svc.Invite(ctx, partners.CLIManager("test"), w.acme.ID, partners.InviteInput{Email: "new@acme.example", Role: store.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	w.as(t, member) // signs in, so there is a session to point at
	sess, err := w.h.Store.UserSessions(ctx, w.users[member].ID, w.clock.Now())
	if err != nil || len(sess) == 0 {
		t.Fatalf("member has no session: %v", err)
	}
	cl, _, err := w.reg.Register(ctx, w.acme.ID, authserver.Actor{Label: "test"}, authserver.RegisterInput{
		Name: "Inventory sync", Type: store.ClientService, Scopes: []string{"payments:read"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := w.reg.CreateRegistrationToken(ctx, w.acme.ID, authserver.Actor{Label: "test"}, authserver.RegistrationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	dev := w.user(t, w.acme, "dev-"+store.NewID()+"@acme.example", store.RoleDeveloper)
	victim := w.user(t, w.acme, "mem-"+store.NewID()+"@acme.example", store.RoleMember)
	g, err := svc.CreateGroup(ctx, partners.CLIManager("test"), w.acme.ID, "team-"+store.NewID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddGroupMember(ctx, partners.CLIManager("test"), w.acme.ID, g.ID, victim.Email); err != nil {
		t.Fatal(err)
	}
	ti, err := w.oauth.Issuers().Create(ctx, w.acme.ID, authserver.Actor{Label: "test"},
		authserver.IssuerInput{Issuer: "https://idp-" + store.NewID() + ".partner.example"})
	if err != nil {
		t.Fatal(err)
	}
	api := store.API{OrgID: w.acme.ID, Identifier: "https://api.acme.example/" + store.NewID(), Name: "Acme API",
		Scopes: []store.APIScope{{Name: "acme:" + store.NewID()}}}
	if err := w.h.Store.CreateAPI(ctx, &api); err != nil {
		t.Fatal(err)
	}
	at, err := svc.CreateAPIToken(ctx, partners.CLIManager("test"), partners.APITokenInput{Name: "acme sync", OrgID: w.acme.ID,
		Role: store.APIRoleRead})
	if err != nil {
		t.Fatal(err)
	}
	return fixtures{apiTokenID: at.Token.ID, apiID: api.ID, victimEmail: victim.Email, groupID: g.ID, planSlug: w.gold.Slug, clientID: cl.ClientID, clientName: cl.Name, secretID: cl.Secrets[0].ID,
		regTokenID: tok.ID, inviteID: inv.Invitation.ID, inviteToken: inv.Token,
		victimDevID: dev.ID, victimID: victim.ID, otherSession: sess[0].ID, issuerID: ti.ID}
}

const (
	ok   = http.StatusOK
	see  = http.StatusSeeOther
	unau = http.StatusUnauthorized
	forb = http.StatusForbidden
	nf   = http.StatusNotFound
	unpr = http.StatusUnprocessableEntity
	bad  = http.StatusBadRequest
	unav = http.StatusServiceUnavailable
)

// matrix is the expected table, keyed by "METHOD route" as echo registered
// it. Every route must have an entry: a new route without one fails
// TestAuthorizationMatrix, so nobody adds a page without deciding who may
// use it. acme's objects are used throughout, so "other org admin" and
// "platform admin" (who sits in the staff organization) show what a
// cross-organization ID gets: 404.
func matrix(fx fixtures) map[string]routeCase {
	m := ownMatrix(fx)
	for k, v := range othersMatrix() {
		m[k] = v
	}
	for k, v := range issuersMatrix(fx) {
		m[k] = v
	}
	return m
}

// ownMatrix is the table for the partner-lifecycle pages and the routes
// that existed before them.
func ownMatrix(fx fixtures) map[string]routeCase {
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

		"GET /admin/plans": {path: "/admin/plans", want: want(see, forb, forb, forb, forb, ok)},

		// APIs: an organization's admins manage their own, platform admins
		// every one; another organization's API is not found.
		"GET /apis":     {path: "/apis", want: want(see, forb, forb, ok, ok, ok)},
		"GET /apis/new": {path: "/apis/new", want: want(see, forb, forb, ok, ok, ok)},
		"POST /apis":    {path: "/apis", form: none, want: want(unau, forb, forb, unpr, unpr, unpr)},
		"GET /apis/:id": {path: "/apis/" + fx.apiID, want: want(see, forb, forb, ok, nf, ok)},
		"POST /apis/:id": {path: "/apis/" + fx.apiID, form: url.Values{"identifier": {"https://api.acme.example/v2"},
			"name": {"Acme API"}, "scopes": {"acme:v2 read"}}, want: want(unau, forb, forb, see, nf, see)},
		"POST /apis/:id/delete": {path: "/apis/" + fx.apiID + "/delete", form: none,
			fresh: true, want: want(unau, forb, forb, see, nf, see)},
		"POST /apis/client-metadata": {path: "/apis/client-metadata", form: url.Values{"allow": {"on"}},
			want: want(unau, forb, forb, see, see, see)},
		"GET /admin/plans/new":   {path: "/admin/plans/new", want: want(see, forb, forb, forb, forb, ok)},
		"POST /admin/plans":      {path: "/admin/plans", form: none, want: want(unau, forb, forb, forb, forb, unpr)},
		"GET /admin/plans/:slug": {path: "/admin/plans/" + fx.planSlug, want: want(see, forb, forb, forb, forb, ok)},
		"POST /admin/plans/:slug": {path: "/admin/plans/" + fx.planSlug, form: url.Values{"slug": {"gold"}, "name": {"Gold"}},
			want: want(unau, forb, forb, forb, forb, see)},

		// Org admins work on their own organization; the other org's admin
		// and the platform admin (an admin of staff) see their own members.
		"GET /org/members": {path: "/org/members", want: want(see, forb, forb, ok, ok, ok)},
		"POST /org/members/:id/role": {path: "/org/members/" + fx.victimDevID + "/role", form: url.Values{"role": {"member"}},
			want: want(unau, forb, forb, see, nf, nf)},
		"POST /org/members/:id/remove": {path: "/org/members/" + fx.victimID + "/remove", form: none,
			fresh: true, want: want(unau, forb, forb, see, nf, nf)},
		"POST /org/invitations": {path: "/org/invitations", form: url.Values{"email": {"fresh@example.com"}, "role": {"member"}},
			want: want(unau, forb, forb, see, see, see)},
		"POST /org/invitations/:id/revoke": {path: "/org/invitations/" + fx.inviteID + "/revoke", form: none,
			fresh: true, want: want(unau, forb, forb, see, nf, nf)},

		// The invitation link is its own credential: public by design. The
		// empty form changes nothing.
		// Groups: org admins on their own organization's groups only.
		"GET /org/groups":     {path: "/org/groups", want: want(see, forb, forb, ok, ok, ok)},
		"GET /org/groups/:id": {path: "/org/groups/" + fx.groupID, want: want(see, forb, forb, ok, nf, nf)},
		"POST /org/groups": {path: "/org/groups", form: url.Values{"name": {"new-group"}},
			want: want(unau, forb, forb, see, see, see)},
		"POST /org/groups/:id/delete": {path: "/org/groups/" + fx.groupID + "/delete", form: none,
			fresh: true, want: want(unau, forb, forb, see, nf, nf)},
		"POST /org/groups/:id/add-member": {path: "/org/groups/" + fx.groupID + "/add-member", form: url.Values{"email": {fx.victimEmail}},
			fresh: true, want: want(unau, forb, forb, see, nf, nf)},
		"POST /org/groups/:id/remove-member": {path: "/org/groups/" + fx.groupID + "/remove-member", form: url.Values{"email": {fx.victimEmail}},
			fresh: true, want: want(unau, forb, forb, see, nf, nf)},

		// Directory sync: the page and its token for org admins of their
		// own organization; the SCIM endpoints answer only to the bearer
		// token, never to a portal session.
		"GET /org/scim":               {path: "/org/scim", want: want(see, forb, forb, ok, ok, ok)},
		"POST /org/scim/token":        {path: "/org/scim/token", form: none, want: want(unau, forb, forb, ok, ok, ok)},
		"POST /org/scim/token/revoke": {path: "/org/scim/token/revoke", form: none, want: want(unau, forb, forb, see, see, see)},
		"ANY /scim/v2/*":              {path: "/scim/v2/acme/Users", want: same(unau)},

		// The admin API answers to its own tokens only, never to a portal
		// session (handlers/adminapi_test.go checks every route).
		"ANY /api/v1/*": {path: "/api/v1/orgs/acme", want: same(unau)},
		// API tokens: org admins for their own organization, platform
		// admins for any; another organization's token is not found.
		"GET /api-tokens":  {path: "/api-tokens", want: want(see, forb, forb, ok, ok, ok)},
		"POST /api-tokens": {path: "/api-tokens", form: none, want: want(unau, forb, forb, unpr, unpr, unpr)},
		"POST /api-tokens/:id/revoke": {path: "/api-tokens/" + fx.apiTokenID + "/revoke", form: none,
			fresh: true, want: want(unau, forb, forb, see, nf, see)},

		"GET /invite/:token":  {path: "/invite/" + fx.inviteToken, want: want(ok, ok, ok, ok, ok, ok)},
		"POST /invite/:token": {path: "/invite/" + fx.inviteToken, form: none, want: want(unpr, unpr, unpr, unpr, unpr, unpr)},

		"GET /audit":            {path: "/audit", want: want(see, forb, forb, ok, ok, ok)},
		"GET /audit/export.csv": {path: "/audit/export.csv", want: want(see, forb, forb, ok, ok, ok)},

		// The authorization server answers on the protocol's terms: a
		// portal session opens nothing there. Bare requests without
		// credentials or parameters are refused alike for everyone.
		"ANY /.well-known/openid-configuration":       {path: "/.well-known/openid-configuration", want: same(ok)},
		"ANY /.well-known/oauth-authorization-server": {path: "/.well-known/oauth-authorization-server", want: same(ok)},
		"ANY /jwks": {path: "/jwks", want: same(ok)},
		// Public by design; acme's API does not publish its metadata.
		"ANY /.well-known/oauth-protected-resource/apis/*": {path: "/.well-known/oauth-protected-resource/apis/" + fx.apiID, want: same(nf)},
		"ANY /authorize":   {path: "/authorize", want: same(http.StatusBadRequest)},
		"ANY /token":       {path: "/token", want: same(http.StatusMethodNotAllowed)},
		"ANY /introspect":  {path: "/introspect", want: same(http.StatusMethodNotAllowed)},
		"ANY /revoke":      {path: "/revoke", want: same(http.StatusMethodNotAllowed)},
		"ANY /par":         {path: "/par", want: same(http.StatusMethodNotAllowed)},
		"ANY /userinfo":    {path: "/userinfo", want: same(unau)},
		"ANY /end_session": {path: "/end_session", want: same(http.StatusFound)},
		"ANY /register":    {path: "/register", want: same(unau)},
		"ANY /register/*":  {path: "/register/" + fx.clientID, want: same(unau)},

		// Developers and admins manage their organization's apps; acme's
		// client ID is 404 to everyone else.
		"GET /apps":            {path: "/apps", want: want(see, forb, ok, ok, ok, ok)},
		"GET /apps/new":        {path: "/apps/new?type=service", want: want(see, forb, ok, ok, ok, ok)},
		"POST /apps":           {path: "/apps", form: none, want: want(unau, forb, unpr, unpr, unpr, unpr)},
		"GET /apps/:client_id": {path: "/apps/" + fx.clientID, want: want(see, forb, ok, ok, nf, nf)},
		"POST /apps/:client_id": {path: "/apps/" + fx.clientID, form: url.Values{"name": {"Inventory"}, "scopes": {"payments:read"}},
			want: want(unau, forb, see, see, nf, nf)},
		"POST /apps/:client_id/rotate": {path: "/apps/" + fx.clientID + "/rotate", form: url.Values{"grace": {"1h"}},
			want: want(unau, forb, see, see, nf, nf)},
		"POST /apps/:client_id/secrets/:secret_id/revoke": {path: "/apps/" + fx.clientID + "/secrets/" + fx.secretID + "/revoke",
			form: none, fresh: true, want: want(unau, forb, see, see, nf, nf)},
		"POST /apps/:client_id/enable": {path: "/apps/" + fx.clientID + "/enable", form: none,
			want: want(unau, forb, see, see, nf, nf)},
		"POST /apps/:client_id/disable": {path: "/apps/" + fx.clientID + "/disable", form: none,
			want: want(unau, forb, see, see, nf, nf)},
		"POST /apps/:client_id/delete": {path: "/apps/" + fx.clientID + "/delete", form: url.Values{"confirm": {fx.clientName}},
			fresh: true, want: want(unau, forb, see, see, nf, nf)},
		"POST /apps/registration-tokens": {path: "/apps/registration-tokens", form: url.Values{"ttl": {"24h"}},
			want: want(unau, forb, see, see, see, see)},
		"POST /apps/registration-tokens/:id/revoke": {path: "/apps/registration-tokens/" + fx.regTokenID + "/revoke",
			form: none, fresh: true, want: want(unau, forb, see, see, nf, nf)},
		// Choosing an app's policy is for platform admins only; acme's app is
		// 404 to staff's platform admin, as every app outside one's own org.
		"POST /apps/:client_id/policy": {path: "/apps/" + fx.clientID + "/policy", form: url.Values{"policy": {""}},
			want: want(unau, forb, forb, forb, forb, nf)},
		// So is marking an app first-party (no consent page).
		"POST /apps/:client_id/first-party": {path: "/apps/" + fx.clientID + "/first-party", form: url.Values{"first_party": {"true"}},
			want: want(unau, forb, forb, forb, forb, nf)},
		// And sharing an app with other organizations.
		"POST /apps/:client_id/share": {path: "/apps/" + fx.clientID + "/share", form: url.Values{"target": {"all"}},
			want: want(unau, forb, forb, forb, forb, nf)},
		"POST /apps/:client_id/unshare": {path: "/apps/" + fx.clientID + "/unshare", form: url.Values{"target": {"all"}},
			want: want(unau, forb, forb, forb, forb, nf)},

		// The consent page needs a session (without one it sends the
		// browser to sign in) and a pending request; a made-up one is gone.
		"GET /login/consent": {path: "/login/consent?auth_request=made-up", want: want(see, bad, bad, bad, bad, bad)},
		"POST /login/consent": {path: "/login/consent", form: url.Values{"auth_request": {"made-up"}, "decision": {"allow"}},
			want: want(see, bad, bad, bad, bad, bad)},
		// One revokes only one's own consents: nobody here gave any.
		"POST /account/apps/:client_id/revoke": {path: "/account/apps/" + fx.clientID + "/revoke", form: none,
			want: want(unau, nf, nf, nf, nf, nf)},
	}
}

// order is the sequence personas act in on a shared portal. Those who must
// be refused go first, so nothing they might wrongly change goes unseen;
// cross-organization requests get 404 whether or not the object still
// exists, so their place after the acme admin hides nothing.
var order = []persona{anonymous, member, developer, otherOrgAdmin, orgAdmin, platformAdmin}

// TestAuthorizationMatrix requests every route echo has registered as every
// persona and compares the status with the table. Reads share one portal;
// each state-changing route gets a fresh one, so one route's effect cannot
// decide another's result.
func TestAuthorizationMatrix(t *testing.T) {
	shared := newWorld(t)
	sharedFx := makeFixtures(t, shared)
	table := matrix(sharedFx)

	oauth := map[string]bool{}
	for _, p := range shared.oauth.Paths() {
		oauth[p] = true
	}
	seen := map[string]bool{}
	var keys []string
	for _, r := range shared.echo(t).Routes() {
		if r.Method == "echo_route_not_found" {
			continue // the 404 handlers echo adds for groups with middleware
		}
		key := r.Method + " " + r.Path
		if r.Path == adminapi.Prefix || strings.HasPrefix(r.Path, adminapi.Prefix+"/") {
			key = "ANY " + adminapi.Prefix + "/*"
		} else if oauth[r.Path] || strings.HasPrefix(r.Path, handlers.SCIMPrefix) {
			// The authorization server's paths are mounted for every
			// method and answer on the protocol's terms, never by session.
			key = "ANY " + r.Path
		}
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
				// Changes get a portal of their own, so one route's effect
				// cannot decide another's result; they run in parallel.
				t.Parallel()
				w = newWorld(t)
				fx = makeFixtures(t, w)
			}
			rc := matrix(fx)[key]
			for _, p := range order {
				if rc.fresh {
					rc = matrix(makeFixtures(t, w))[key]
				}
				status, body := request(t, w.as(t, p), rc)
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

// request sends rc as the browser c and returns the status and body.
func request(t *testing.T, c *handlerstest.Client, rc routeCase) (int, string) {
	t.Helper()
	if rc.form != nil {
		// A copy: Post fills in this browser's CSRF token.
		r := c.Post(rc.path, maps.Clone(rc.form))
		return r.StatusCode, r.Body
	}
	r := c.Get(rc.path)
	return r.StatusCode, r.Body
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

package handlers_test

import (
	"crypto/rand"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/handlers/adminapi"
	"portico/handlers/handlerstest"
	"portico/scim"
	"portico/store"
	"portico/webhooks"
)

// csrfExempt lists every state-changing route the CSRF and Origin rules do
// not cover, and why. Anything else a test portal registers is swept.
var csrfExempt = map[string]string{
	// The authorization server: clients post here cross-site by design and
	// authenticate themselves (client credentials, codes, tokens).
	"/authorize":                        "OAuth endpoint",
	"/token":                            "OAuth endpoint",
	"/introspect":                       "OAuth endpoint",
	"/revoke":                           "OAuth endpoint",
	"/userinfo":                         "OAuth endpoint",
	"/end_session":                      "OAuth endpoint",
	"/jwks":                             "OAuth endpoint",
	"/register":                         "OAuth endpoint (RFC 7591)",
	"/register/*":                       "OAuth endpoint (RFC 7592)",
	"/register/:client_id":              "OAuth endpoint (RFC 7592)",
	"/.well-known/openid-configuration": "OAuth metadata",
	"/.well-known/oauth-authorization-server": "OAuth metadata",
	"/par": "OAuth endpoint (RFC 9126)",
	"/.well-known/oauth-protected-resource/apis/*": "OAuth metadata (RFC 9728)",
	// SAML responses arrive by a cross-site POST from the IdP; the signed
	// assertion and the pending sign-in's state are the protection.
	"/login/saml/acs": "SAML ACS",
	"/healthz":        "health check",
	// SCIM directories authenticate every call with the organization's
	// bearer token; no cookie is involved.
	handlers.SCIMPrefix + "*": "SCIM (bearer token)",
	// The admin API takes only an Authorization header and never reads a
	// cookie, so a cross-site request carries nothing it would accept
	// (TestAdminAPIIgnoresSessionCookies proves it route by route).
	adminapi.Prefix + "/*": "admin API (Authorization header only)",
	// Billing systems sign each call with the hook's secret (Standard
	// Webhooks); no cookie is involved.
	handlers.InboundHookPath + ":id": "inbound hook (signed)",
}

// exempt reports whether a route is listed above, by name or under an
// exempt prefix (an entry ending in /*).
func exempt(path string) bool {
	if _, ok := csrfExempt[path]; ok {
		return true
	}
	for p := range csrfExempt {
		if base, ok := strings.CutSuffix(p, "/*"); ok && (path == base || strings.HasPrefix(path, base+"/")) {
			return true
		}
	}
	return false
}

// sweepPath fills in a route's parameters.
func sweepPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || s == "*" {
			parts[i] = "sweep-x"
		}
	}
	return strings.Join(parts, "/")
}

type sweepReq struct {
	method, path string
	body         url.Values
	query        url.Values
	header       map[string]string
}

func sweepSend(t *testing.T, b *handlerstest.Client, base string, r sweepReq) (int, string) {
	t.Helper()
	u := base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequest(r.method, u, strings.NewReader(r.body.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := b.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

const csrfRefusal = "did not come from Portico"

// TestCSRFSweepsEveryStateChangingRoute: every POST, PUT, PATCH and DELETE
// route the portal registers (with the authorization server wired, as
// serve runs it) refuses a request without the session's token, with
// another session's token, with the token in the query string, from a
// foreign Origin, and from a foreign Referer when there is no Origin; and
// lets the right token from the portal's own origin through.
func TestCSRFSweepsEveryStateChangingRoute(t *testing.T) {
	h, srv := newOAuthPortal(t)
	e, ok := h.Server.Config.Handler.(*echo.Echo)
	if !ok {
		t.Fatalf("the harness serves %T, not *echo.Echo", h.Server.Config.Handler)
	}
	org := h.Org(t, "acme", "acme.example")
	h.User(t, org, "mia@acme.example", store.RoleMember, pw)
	admin := h.User(t, org, "root@acme.example", store.RoleAdmin, pw)
	if _, _, err := h.Store.UpdateUser(t.Context(), admin.OrgID, admin.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	type route struct{ method, path string }
	var routes []route
	seen := map[route]bool{}
	for _, r := range e.Routes() {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace, "PROPFIND", "REPORT", echo.RouteNotFound:
			continue
		}
		if exempt(r.Path) || strings.HasPrefix(r.Path, "/static") {
			continue
		}
		k := route{r.Method, r.Path}
		if !seen[k] {
			seen[k] = true
			routes = append(routes, k)
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].path+routes[i].method < routes[j].path+routes[j].method })
	if len(routes) < 30 {
		t.Fatalf("only %d state-changing routes found; the sweep is not seeing the portal", len(routes))
	}
	// Every authorization-server path is exempt by name: a new one must be
	// added above on purpose.
	for _, path := range srv.Paths() {
		if _, ok := csrfExempt[path]; !ok {
			t.Errorf("the authorization server serves %s, which the sweep neither sweeps nor lists as exempt", path)
		}
	}

	a := h.Client(t)
	a.Login(admin.Email, pw)
	other := h.Client(t)
	other.Login("mia@acme.example", pw)
	otherToken := other.CSRF()
	own := strings.TrimRight(h.URL, "/")

	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			path := sweepPath(rt.path)
			token := a.CSRF()
			for _, tc := range []struct {
				name string
				req  sweepReq
			}{
				{"no token", sweepReq{body: url.Values{}, header: map[string]string{"Origin": own}}},
				{"another session's token", sweepReq{body: url.Values{"_csrf": {otherToken}}, header: map[string]string{"Origin": own}}},
				{"another session's token in the header", sweepReq{body: url.Values{}, header: map[string]string{"Origin": own, "X-CSRF-Token": otherToken}}},
				{"token in the query string", sweepReq{body: url.Values{}, query: url.Values{"_csrf": {token}}, header: map[string]string{"Origin": own}}},
				{"foreign Origin", sweepReq{body: url.Values{"_csrf": {token}}, header: map[string]string{"Origin": "https://evil.example"}}},
				{"null Origin", sweepReq{body: url.Values{"_csrf": {token}}, header: map[string]string{"Origin": "null"}}},
				{"foreign Referer without Origin", sweepReq{body: url.Values{"_csrf": {token}}, header: map[string]string{"Referer": "https://evil.example/page"}}},
			} {
				tc.req.method, tc.req.path = rt.method, path
				status, body := sweepSend(t, a, h.URL, tc.req)
				if status != http.StatusForbidden || !strings.Contains(body, csrfRefusal) {
					t.Errorf("%s: status %d, want the CSRF 403", tc.name, status)
				}
			}
			// The control: the same browser's own token, from the portal's
			// own page, passes the CSRF layer (whatever the handler then
			// makes of the made-up parameters). A fresh session each time,
			// since some routes end the one they are called in.
			b := h.Client(t)
			b.Login(admin.Email, pw)
			for _, hdr := range []map[string]string{{"Origin": own}, {"Referer": own + "/account"}, {}} {
				status, body := sweepSend(t, b, h.URL, sweepReq{method: rt.method, path: path,
					body: url.Values{"_csrf": {b.CSRF()}}, header: hdr})
				if status == http.StatusForbidden && strings.Contains(body, csrfRefusal) {
					t.Errorf("the session's own token with %v was refused", hdr)
				}
				if b.Get("/account").StatusCode != http.StatusOK {
					b = h.Client(t)
					b.Login(admin.Email, pw)
				}
			}
		})
	}
}

// newOAuthPortal is a portal with the authorization server wired as
// serve wires it.
func newOAuthPortal(t *testing.T) (*handlerstest.Harness, *authserver.Server) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var srv *authserver.Server
	h := handlerstest.New(t, func(c *handlers.Config) {
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry()}
		srv, err = authserver.New(authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: sealer,
			AllowInsecure: true, CacheRevalidate: -1, Now: c.Now,
			LoginURL:  func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) },
			LogoutURL: handlers.LogoutConfirmURL})
		if err != nil {
			t.Fatal(err)
		}
		c.OAuth = srv
		if c.SCIM, err = scim.New(t.Context(), c.Store, c.Issuer, c.Now, c.Logger); err != nil {
			t.Fatal(err)
		}
		c.Webhooks = &webhooks.Service{Store: c.Store, Sealer: sealer, Now: c.Now}
	})
	return h, srv
}

package handlers_test

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portico/federation"
	"portico/federation/federationtest"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
)

// connWorld is acme (whose admin manages connections), globex (whose admin
// must see none of acme's) and the staff organization's platform admin.
type connWorld struct {
	*signInPortal
	acme, globex, staff store.Organization
}

const connPassword = "correct horse battery"

func newConnWorld(t *testing.T, opts ...handlerstest.Option) *connWorld {
	t.Helper()
	w := &connWorld{signInPortal: newSignInPortal(t, opts...)}
	h := w.Harness
	w.acme, w.globex, w.staff = h.Org(t, "acme", "acme.example"), h.Org(t, "globex", "globex.example"), h.Org(t, "staff")
	h.User(t, w.acme, "admin@acme.example", store.RoleAdmin, connPassword)
	h.User(t, w.acme, "dev@acme.example", store.RoleDeveloper, connPassword)
	h.User(t, w.acme, "mem@acme.example", store.RoleMember, connPassword)
	h.User(t, w.globex, "admin@globex.example", store.RoleAdmin, connPassword)
	root := h.User(t, w.staff, "root@staff.example", store.RoleAdmin, connPassword)
	if _, _, err := h.Store.UpdateUser(context.Background(), w.staff.ID, root.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *connWorld) as(t *testing.T, email string) *handlersClient {
	t.Helper()
	c := w.Client(t)
	c.Login(email, connPassword)
	return c
}

func (w *connWorld) stored(t *testing.T, org store.Organization) []store.Connection {
	t.Helper()
	all, err := w.Store.Connections(context.Background(), org.ID)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func oidcForm(name, issuer, secret string) url.Values {
	f := url.Values{"type": {"oidc"}, "name": {name}, "enabled": {"on"}, "s_issuer": {issuer}, "s_client_id": {"portico"},
		"s_claim_groups": {"roles"}}
	if secret != "" {
		f.Set("secret", secret)
	}
	return f
}

func htmlDoc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConnectionCreateRefusesBadInputAndStoresNothing(t *testing.T) {
	w := newConnWorld(t)
	admin := w.as(t, "admin@acme.example")
	r := admin.Post("/connections", oidcForm("", "ftp://nope", ""))
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", r.StatusCode)
	}
	d := htmlDoc(t, r.Body)
	for _, field := range []string{"name", "issuer", "secret"} {
		if strings.TrimSpace(d.Find("#err-"+field).Text()) == "" {
			t.Errorf("no message beside %s", field)
		}
	}
	// The form comes back with what was typed, minus the secret.
	if v, _ := d.Find("#s_client_id").Attr("value"); v != "portico" {
		t.Errorf("client_id re-rendered as %q", v)
	}
	if n := len(w.stored(t, w.acme)); n != 0 {
		t.Fatalf("%d connections stored after refused input", n)
	}
	if r := admin.Post("/connections", url.Values{"type": {"ldap"}, "name": {"X"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown type: %d", r.StatusCode)
	}
	// A sandbox with a bad user line names the line.
	r = admin.Post("/connections", url.Values{"type": {"sandbox"}, "name": {"Sandbox"}, "s_users": {"not-an-email | X"}, "secret": {"pw"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(htmlDoc(t, r.Body).Find("#err-users").Text(), "Line 1") {
		t.Fatalf("bad sandbox users: %d %s", r.StatusCode, htmlDoc(t, r.Body).Find("#err-users").Text())
	}
	if n := len(w.stored(t, w.acme)); n != 0 {
		t.Fatalf("%d connections stored after refused input", n)
	}
}

func TestConnectionCreateEditDisable(t *testing.T) {
	w := newConnWorld(t)
	admin := w.as(t, "admin@acme.example")
	const secret = "upstream-client-s3cret"
	r := admin.Post("/connections", oidcForm(`Acme <b>SSO</b>`, "https://idp.acme.example", secret))
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/connections/") {
		t.Fatalf("create: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), pageError(r.Body))
	}
	id := strings.TrimPrefix(r.Header.Get("Location"), "/connections/")
	all := w.stored(t, w.acme)
	if len(all) != 1 || all[0].ID != id || bytes.Contains(all[0].Secret, []byte(secret)) {
		t.Fatalf("stored %+v", all)
	}

	for _, path := range []string{"/connections/" + id, "/connections"} {
		page := admin.Get(path)
		if page.StatusCode != http.StatusOK || strings.Contains(page.Body, secret) {
			t.Fatalf("GET %s: %d, or the secret is on the page", path, page.StatusCode)
		}
		if strings.Contains(page.Body, "<b>SSO</b>") {
			t.Fatalf("GET %s: the name is not escaped", path)
		}
	}
	edit := htmlDoc(t, admin.Get("/connections/"+id).Body)
	if got := edit.Find("#redirect-uri").Text(); got != w.URL+"/login/callback" {
		t.Fatalf("redirect URI %q", got)
	}
	if v, _ := edit.Find("#secret").Attr("value"); v != "" {
		t.Fatalf("secret field pre-filled with %q", v)
	}

	// Editing without typing the secret again keeps it.
	f := oidcForm("Acme Okta", "https://okta.acme.example", "")
	r = admin.Post("/connections/"+id, f)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.StatusCode, pageError(r.Body))
	}
	x, err := w.Store.Connection(context.Background(), w.acme.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := w.svc.Sealer.Open(x.Secret, federation.SecretPurpose(id))
	if x.Name != "Acme Okta" || !x.Enabled || x.Version != 2 || err != nil || string(plain) != secret {
		t.Fatalf("after edit: %+v, secret %q %v", x, plain, err)
	}
	cfg, _ := w.svc.Registry.Decode(x.Type, x.Config)
	if cfg.Settings()["issuer"] != "https://okta.acme.example" {
		t.Fatalf("settings %v", cfg.Settings())
	}
	// A bad edit changes nothing.
	r = admin.Post("/connections/"+id, oidcForm("Acme Okta", "not a url", ""))
	if r.StatusCode != http.StatusUnprocessableEntity || htmlDoc(t, r.Body).Find("#err-issuer").Length() != 1 {
		t.Fatalf("bad edit: %d", r.StatusCode)
	}
	if y, _ := w.Store.Connection(context.Background(), w.acme.ID, id); y.Version != 2 {
		t.Fatalf("a refused edit was stored: version %d", y.Version)
	}

	// Disable: the checkbox left out.
	f.Del("enabled")
	if r := admin.Post("/connections/"+id, f); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if x, _ := w.Store.Connection(context.Background(), w.acme.ID, id); x.Enabled {
		t.Fatal("still enabled")
	}
	// With its only connection disabled, acme's people are asked for a
	// password instead of being sent to the IdP.
	if r := w.Client(t).Post("/login", url.Values{"email": {"someone@acme.example"}}); r.StatusCode == http.StatusSeeOther {
		t.Fatalf("a disabled connection still starts sign-in: %s", r.Header.Get("Location"))
	}

	evs, _ := w.Store.AuditEvents(context.Background(), store.AuditFilter{OrgID: w.acme.ID})
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
		if bytes.Contains(e.After, []byte(secret)) || bytes.Contains(e.Before, []byte(secret)) {
			t.Fatal("the audit log holds the secret")
		}
	}
	if got := strings.Join(actions, ","); strings.Count(got, "connection.update") != 2 || strings.Count(got, "connection.create") != 1 {
		t.Fatalf("audit %s", got)
	}
}

func TestConnectionTestReportsAFixedMessage(t *testing.T) {
	w := newConnWorld(t)
	admin := w.as(t, "admin@acme.example") // before the connection turns acme's passwords off
	x := w.connection(t, w.acme, "oidc", "Broken", "s", map[string]string{"issuer": "http://127.0.0.1:1/nothing-here", "client_id": "c"})
	r := admin.Post("/connections/"+x.ID+"/test", nil)
	msg := strings.TrimSpace(htmlDoc(t, r.Body).Find("#test-result").Text())
	if r.StatusCode != http.StatusOK || !strings.Contains(msg, "does not work") || strings.Contains(msg, "127.0.0.1") {
		t.Fatalf("%d %q", r.StatusCode, msg)
	}
}

// TestConnectionTestRefusesInternalAddresses: an org admin's OIDC issuer
// or SAML metadata URL pointing at loopback, link-local or private
// addresses is never fetched, and "Test connection" says what was refused
// and why instead of what answered. The loopback IdP is a real one that
// works once the operator allows loopback (as the other tests' harness
// does), so the refusal is the guard's doing.
func TestConnectionTestRefusesInternalAddresses(t *testing.T) {
	w := newConnWorld(t, func(c *handlers.Config) { c.UpstreamAllow = nil })
	admin := w.as(t, "admin@acme.example")
	op := federationtest.NewOP(t, "portico", "s", federationtest.Claims{Subject: "x"})
	for _, tc := range []struct {
		name, typ string
		settings  map[string]string
		want      string
	}{
		{"loopback OIDC issuer", "oidc", map[string]string{"issuer": op.URL, "client_id": "c"},
			"refused: 127.0.0.1 is a loopback address; the operator can allow it with PORTICO_UPSTREAM_ALLOW"},
		{"cloud metadata as OIDC issuer", "oidc", map[string]string{"issuer": "https://169.254.169.254/latest", "client_id": "c"},
			"refused: 169.254.169.254 is a link-local address; the operator can allow it with PORTICO_UPSTREAM_ALLOW"},
		{"private SAML metadata URL", "saml", map[string]string{"metadata_url": "http://10.1.2.3/metadata"},
			"refused: 10.1.2.3 is a private address; the operator can allow it with PORTICO_UPSTREAM_ALLOW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := w.connection(t, w.acme, tc.typ, tc.name, "s", tc.settings)
			r := admin.Post("/connections/"+x.ID+"/test", nil)
			msg := strings.TrimSpace(htmlDoc(t, r.Body).Find("#test-result").Text())
			if r.StatusCode != http.StatusOK || !strings.Contains(msg, tc.want) {
				t.Fatalf("%d %q, want it to say %q", r.StatusCode, msg, tc.want)
			}
		})
	}
	// With the operator's allow list the same loopback IdP answers.
	allowed := newConnWorld(t)
	admin = allowed.as(t, "admin@acme.example")
	x := allowed.connection(t, allowed.acme, "oidc", "Allowed", "s", map[string]string{"issuer": op.URL, "client_id": "c"})
	r := admin.Post("/connections/"+x.ID+"/test", nil)
	if msg := htmlDoc(t, r.Body).Find("#test-result").Text(); !strings.Contains(msg, "configuration loaded") {
		t.Fatalf("allowed loopback IdP: %q", msg)
	}
}

// Every route with an ID answers 404 for another organization's
// connection, and changes nothing; members and developers get 403
// everywhere.
func TestConnectionRoutesScopeAndRoles(t *testing.T) {
	w := newConnWorld(t)
	// Everyone signs in first: once acme has a connection, its pool
	// passwords stop working.
	clients := map[string]*handlersClient{}
	for _, who := range []string{"mem@acme.example", "dev@acme.example", "admin@globex.example", "root@staff.example"} {
		clients[who] = w.as(t, who)
	}
	x := w.connection(t, w.acme, "sandbox", "Acme sandbox", "pw", map[string]string{"users": "ada@acme.example | Ada"})
	update := url.Values{"name": {"Taken over"}, "enabled": {"on"}, "s_users": {"eve@globex.example | Eve"}}
	routes := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/connections", nil},
		{"GET", "/connections/new?type=sandbox", nil},
		{"POST", "/connections", url.Values{"type": {"sandbox"}, "name": {"S"}, "s_users": {"a@acme.example"}, "secret": {"pw"}}},
		{"GET", "/connections/" + x.ID, nil},
		{"POST", "/connections/" + x.ID, update},
		{"POST", "/connections/" + x.ID + "/test", url.Values{}},
	}
	for _, who := range []string{"mem@acme.example", "dev@acme.example"} {
		c := clients[who]
		for _, rt := range routes {
			var r int
			if rt.form == nil {
				r = c.Get(rt.path).StatusCode
			} else {
				r = c.Post(rt.path, maps.Clone(rt.form)).StatusCode // a copy: Post fills in this browser's CSRF token
			}
			if r != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 403", who, rt.method, rt.path, r)
			}
		}
	}
	for _, who := range []string{"admin@globex.example", "root@staff.example"} {
		c := clients[who]
		for _, rt := range routes[3:] {
			var r int
			if rt.form == nil {
				r = c.Get(rt.path).StatusCode
			} else {
				r = c.Post(rt.path, maps.Clone(rt.form)).StatusCode // a copy: Post fills in this browser's CSRF token
			}
			if r != http.StatusNotFound {
				t.Errorf("%s %s %s: %d, want 404", who, rt.method, rt.path, r)
			}
		}
		if page := c.Get("/connections").Body; strings.Contains(page, x.ID) || strings.Contains(page, "Acme sandbox") {
			t.Errorf("%s sees acme's connection in their list", who)
		}
	}
	if y, _ := w.Store.Connection(context.Background(), w.acme.ID, x.ID); y.Version != 1 || y.Name != "Acme sandbox" {
		t.Fatalf("acme's connection changed: %+v", y)
	}
	if n := len(w.stored(t, w.acme)); n != 1 {
		t.Fatalf("acme has %d connections", n)
	}
}

func TestPlatformAdminRestrictsConnectionTypes(t *testing.T) {
	w := newConnWorld(t)
	admin, root := w.as(t, "admin@acme.example"), w.as(t, "root@staff.example")
	path := "/platform/connection-types/" + w.acme.ID
	for _, r := range []int{admin.Get(path).StatusCode, admin.Post(path, url.Values{"restrict": {"on"}}).StatusCode} {
		if r != http.StatusForbidden {
			t.Fatalf("org admin on the platform page: %d", r)
		}
	}
	if r := root.Post(path, url.Values{"restrict": {"on"}, "types": {"ldap"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown type accepted: %d", r.StatusCode)
	}
	if r := root.Post("/platform/connection-types/nope", url.Values{"restrict": {"on"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown org: %d", r.StatusCode)
	}
	if r := root.Post(path, url.Values{"restrict": {"on"}, "types": {"sandbox", "saml"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restrict: %d %s", r.StatusCode, pageError(r.Body))
	}
	page := htmlDoc(t, root.Get(path).Body)
	if page.Find(`input[name=types][value=sandbox]:checked`).Length() != 1 || page.Find(`input[name=types][value=oidc]:checked`).Length() != 0 {
		t.Fatal("the form does not show the restriction")
	}

	// acme's admin is offered only the allowed types and cannot add others.
	var offered []string
	htmlDoc(t, admin.Get("/connections").Body).Find("#new-type option").Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("value")
		offered = append(offered, v)
	})
	if strings.Join(offered, ",") != "saml,sandbox" {
		t.Fatalf("offered %v", offered)
	}
	if r := admin.Get("/connections/new?type=oidc"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("form of a refused type: %d", r.StatusCode)
	}
	r := admin.Post("/connections", oidcForm("Acme SSO", "https://idp.acme.example", "s"))
	if r.StatusCode != http.StatusUnprocessableEntity || htmlDoc(t, r.Body).Find("#err-type").Length() != 1 {
		t.Fatalf("refused type: %d", r.StatusCode)
	}
	if n := len(w.stored(t, w.acme)); n != 0 {
		t.Fatalf("%d connections stored", n)
	}
	r = admin.Post("/connections", url.Values{"type": {"sandbox"}, "name": {"Sandbox"}, "s_users": {"ada@acme.example"}, "secret": {"pw"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("allowed type: %d %s", r.StatusCode, pageError(r.Body))
	}
	// globex is not restricted by acme's setting.
	if r := w.as(t, "admin@globex.example").Post("/connections", oidcForm("Globex SSO", "https://idp.globex.example", "s")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("globex: %d", r.StatusCode)
	}
	// Lifting the restriction offers everything again.
	if r := root.Post(path, url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatal(r.StatusCode)
	}
	if r := admin.Get("/connections/new?type=oidc"); r.StatusCode != http.StatusOK {
		t.Fatalf("after lifting: %d", r.StatusCode)
	}
}

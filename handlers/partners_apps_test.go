package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portico/handlers/handlerstest"
)

var secretRE = regexp.MustCompile(`id="client-secret">([^<]+)<`)
var clientIDRE = regexp.MustCompile(`id="client-id">([^<]+)<`)

// revealed follows a create's redirect to the page that shows its secret
// once (post/redirect/get), and checks that a reload does not show it again
// nor create anything.
func revealed(t *testing.T, c *handlerstest.Client, r handlerstest.Response) handlerstest.Response {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "reveal=") {
		t.Fatalf("a create answered %d (Location %q), want a redirect to a one-time reveal", r.StatusCode, loc)
	}
	shown := c.Get(loc)
	if cc := shown.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the reveal may be cached: Cache-Control %q", cc)
	}
	again := c.Get(loc)
	if again.StatusCode != http.StatusOK || !strings.Contains(again.Body, `id="reveal-gone"`) ||
		strings.Contains(again.Body, `id="client-secret"`) || strings.Contains(again.Body, `id="reg-token"`) {
		t.Errorf("a reload of %s shows the secret again or fails: %d", loc, again.StatusCode)
	}
	return shown
}

// registerService registers a service app through the wizard's form and
// returns its client ID and the secret shown once.
func registerService(t *testing.T, w *world, name string) (string, string) {
	t.Helper()
	dev := w.as(t, developer)
	r := revealed(t, dev, dev.Post("/apps", url.Values{"type": {"service"}, "name": {name}, "scopes": {"payments:read"}}))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("register: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	s, id := secretRE.FindStringSubmatch(r.Body), clientIDRE.FindStringSubmatch(r.Body)
	if s == nil || id == nil {
		t.Fatalf("no secret or client ID on the page:\n%s", r.Body)
	}
	if !strings.Contains(r.Body, "never show it again") || !strings.Contains(r.Body, `data-copy="client-secret"`) {
		t.Error("the secret is shown without its warning or copy button")
	}
	return id[1], s[1]
}

func TestWizardOffersTypesAndThePlansScopes(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	r := dev.Get("/apps/new")
	for _, typ := range []string{"type-web", "type-spa", "type-native", "type-service"} {
		if !strings.Contains(r.Body, `id="`+typ+`"`) {
			t.Errorf("the wizard does not offer %s", typ)
		}
	}
	if !strings.Contains(r.Body, "client credentials") {
		t.Error("the wizard does not explain the service type")
	}
	r = dev.Get("/apps/new?type=service")
	if !strings.Contains(r.Body, `value="payments:read"`) || !strings.Contains(r.Body, `value="payments:write"`) {
		t.Error("the plan's scopes are not offered")
	}
	if strings.Contains(r.Body, `value="reports:read"`) || strings.Contains(r.Body, `value="openid"`) {
		t.Error("scopes outside the plan (or OpenID scopes for a service) are offered")
	}
	if strings.Contains(r.Body, `name="redirect_uris"`) {
		t.Error("a service app is asked for redirect URIs")
	}
	if r := dev.Get("/apps/new?type=web"); !strings.Contains(r.Body, `name="redirect_uris"`) || !strings.Contains(r.Body, `value="openid"`) {
		t.Error("a web app is not asked for redirect URIs and OpenID scopes")
	}
}

func TestRegistrationValidatesAndChangesNothing(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	cases := map[string]struct {
		form  url.Values
		field string
		says  string
	}{
		"http redirect": {url.Values{"type": {"web"}, "name": {"Web"}, "redirect_uris": {"https://ok.example/cb\nhttp://app.example/cb"}},
			"redirect_uris", "line 2"},
		"fragment":     {url.Values{"type": {"web"}, "name": {"Web"}, "redirect_uris": {"https://app.example/cb#x"}}, "redirect_uris", "fragment"},
		"wildcard":     {url.Values{"type": {"spa"}, "name": {"SPA"}, "redirect_uris": {"https://*.example/cb"}}, "redirect_uris", "wildcard"},
		"no redirect":  {url.Values{"type": {"native"}, "name": {"App"}}, "redirect_uris", "required"},
		"out of plan":  {url.Values{"type": {"service"}, "name": {"S"}, "scopes": {"reports:read"}}, "scopes", "plan"},
		"no name":      {url.Values{"type": {"service"}, "name": {""}}, "name", "required"},
		"bad launch":   {url.Values{"type": {"web"}, "name": {"W"}, "redirect_uris": {"https://a.example/cb"}, "launch_url": {"javascript:alert(1)"}}, "launch_url", ""},
		"unknown type": {url.Values{"type": {"mainframe"}, "name": {"M"}}, "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := dev.Post("/apps", tc.form)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", r.StatusCode)
			}
			if tc.field != "" {
				i := strings.Index(r.Body, `id="err-`+tc.field+`"`)
				if i < 0 {
					t.Fatalf("no message for %s", tc.field)
				}
				if msg := r.Body[i : i+200]; !strings.Contains(msg, tc.says) {
					t.Errorf("message for %s does not say %q: %s", tc.field, tc.says, msg)
				}
			}
		})
	}
	if cs, _ := w.h.Store.Clients(context.Background(), w.acme.ID); len(cs) != 0 {
		t.Errorf("refused registrations created %d apps", len(cs))
	}
}

// TestSecretRotationWithGrace is the developer's credential life: the
// secret shown once gets tokens; rotating with a grace period lists both
// secrets with the old one's expiry and both work until it lapses;
// revoking ends one at once; disabling stops tokens until enabled.
func TestSecretRotationWithGrace(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	clientID, first := registerService(t, w, "Inventory sync")
	if st, body := w.token(t, clientID, first); st != http.StatusOK {
		t.Fatalf("token with the first secret: %d %s", st, body)
	}

	r := revealed(t, dev, dev.Post("/apps/"+clientID+"/rotate", url.Values{"grace": {"1h"}}))
	m := secretRE.FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("rotate: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	second := m[1]
	page := dev.Get("/apps/" + clientID).Body
	if strings.Contains(page, second) || strings.Contains(page, first) {
		t.Error("the app page shows a secret again")
	}
	if n := strings.Count(page, "/secrets/"); n != 2 {
		t.Errorf("the page lists %d secrets, want both", n)
	}
	if !strings.Contains(page, w.clock.Now().Add(time.Hour).UTC().Format("2006-01-02 15:04")) {
		t.Error("the old secret's expiry is not shown")
	}
	for name, s := range map[string]string{"old": first, "new": second} {
		if st, body := w.token(t, clientID, s); st != http.StatusOK {
			t.Errorf("%s secret during the grace period: %d %s", name, st, body)
		}
	}
	w.clock.Advance(61 * time.Minute)
	if st, _ := w.token(t, clientID, first); st == http.StatusOK {
		t.Error("the old secret works after the grace period")
	}
	if st, _ := w.token(t, clientID, second); st != http.StatusOK {
		t.Error("the new secret stopped working")
	}

	// Rotate without grace, then revoke the newest: no secret works.
	r = revealed(t, dev, dev.Post("/apps/"+clientID+"/rotate", url.Values{"grace": {"0"}}))
	third := secretRE.FindStringSubmatch(r.Body)[1]
	if st, _ := w.token(t, clientID, second); st == http.StatusOK {
		t.Error("rotation without grace left the previous secret working")
	}
	c, _ := w.h.Store.ClientByClientID(context.Background(), w.acme.ID, clientID)
	if r := dev.Post("/apps/"+clientID+"/secrets/"+c.Secrets[0].ID+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if st, _ := w.token(t, clientID, third); st == http.StatusOK {
		t.Error("a revoked secret still works")
	}
	if r := dev.Post("/apps/"+clientID+"/rotate", url.Values{"grace": {"1y"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unoffered grace period: %d", r.StatusCode)
	}
}

func TestDisableEnableAndDeleteByName(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	clientID, secret := registerService(t, w, "Inventory sync")
	if r := dev.Post("/apps/"+clientID+"/disable", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if st, _ := w.token(t, clientID, secret); st == http.StatusOK {
		t.Error("a disabled app gets tokens")
	}
	dev.Post("/apps/"+clientID+"/enable", nil)
	if st, body := w.token(t, clientID, secret); st != http.StatusOK {
		t.Errorf("enabled again: %d %s", st, body)
	}
	if r := dev.Post("/apps/"+clientID+"/delete", url.Values{"confirm": {"inventory"}}); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, `id="err-confirm"`) {
		t.Errorf("delete with the wrong name: %d", r.StatusCode)
	}
	if _, err := w.h.Store.ClientByClientID(context.Background(), w.acme.ID, clientID); err != nil {
		t.Fatal("the app was deleted without the right name")
	}
	if r := dev.Post("/apps/"+clientID+"/delete", url.Values{"confirm": {"Inventory sync"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if st, _ := w.token(t, clientID, secret); st == http.StatusOK {
		t.Error("a deleted app gets tokens")
	}
}

// TestRegistrationTokenRegistersIntoTheOrganization: a token made on the
// Apps page registers a client through RFC 7591 into acme, and stops once
// revoked.
func TestRegistrationTokenRegistersIntoTheOrganization(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	r := revealed(t, dev, dev.Post("/apps/registration-tokens", url.Values{"description": {"CI"}, "ttl": {"24h"}, "max_uses": {"0"}}))
	m := regexp.MustCompile(`id="reg-token">([^<]+)<`).FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create token: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	register := func() (int, map[string]any) {
		body := `{"client_name":"From CI","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic","scope":"payments:read"}`
		req, _ := http.NewRequest(http.MethodPost, w.h.URL+"/register", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+m[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	st, out := register()
	if st != http.StatusCreated {
		t.Fatalf("dynamic registration: %d %v", st, out)
	}
	id, _ := out["client_id"].(string)
	if _, err := w.h.Store.ClientByClientID(context.Background(), w.acme.ID, id); err != nil {
		t.Errorf("the registered client is not acme's: %v", err)
	}
	toks, _ := w.h.Store.RegistrationTokens(context.Background(), w.acme.ID)
	if r := dev.Post("/apps/registration-tokens/"+toks[0].ID+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if st, _ := register(); st == http.StatusCreated {
		t.Error("a revoked registration token still registers clients")
	}
}

func TestAuditLogIsScopedToTheViewersOrganization(t *testing.T) {
	w := newWorld(t)
	clientID, _ := registerService(t, w, "Audited app")
	w.as(t, otherOrgAdmin).Post("/org/invitations", url.Values{"email": {"g@globex.example"}, "role": {"member"}})

	acme := w.as(t, orgAdmin).Get("/audit").Body
	if !strings.Contains(acme, "client.create") || !strings.Contains(acme, "dev@acme.example") {
		t.Error("acme's admin does not see acme's change")
	}
	if strings.Contains(acme, "g@globex.example") {
		t.Error("acme's admin sees globex's change")
	}
	if r := w.as(t, orgAdmin).Get("/audit?org=globex"); strings.Contains(r.Body, "g@globex.example") {
		t.Error("an org admin widened the audit log with ?org=")
	}
	all := w.as(t, platformAdmin).Get("/audit").Body
	if !strings.Contains(all, "client.create") || !strings.Contains(all, "member.invite") {
		t.Error("the platform admin does not see every organization")
	}
	only := w.as(t, platformAdmin).Get("/audit?org=globex").Body
	if strings.Contains(only, clientID) || !strings.Contains(only, "member.invite") {
		t.Error("the platform admin's filter does not filter")
	}
	if r := w.as(t, developer).Get("/audit"); r.StatusCode != http.StatusForbidden {
		t.Errorf("a developer reads the audit log: %d", r.StatusCode)
	}
}

func TestPlanFormValidatesFeatures(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, platformAdmin)
	r := admin.Post("/admin/plans", url.Values{"slug": {"silver"}, "name": {"Silver"},
		"features[0].name": {"orders"}, "features[0].scopes": {"orders:read bad\"scope"},
		"features[1].name": {""}, "features[1].scopes": {""}, // blank rows are ignored
		"features[2].name": {"reports"}, "features[2].app_types": {"service", "mainframe"}, "features[2].max_apps": {"x"}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad plan: %d", r.StatusCode)
	}
	for _, field := range []string{"features[0].scopes", "features[1].max_apps"} {
		if !strings.Contains(r.Body, `id="err-`+field+`"`) {
			t.Errorf("no message for %s", field)
		}
	}
	if _, err := w.h.Store.PlanBySlug(context.Background(), "silver"); err == nil {
		t.Fatal("a refused plan was created")
	}
	r = admin.Post("/admin/plans", url.Values{"slug": {"silver"}, "name": {"Silver"},
		"features[0].name": {"orders"}, "features[0].scopes": {"orders:read, orders:write"},
		"features[0].app_types": {"web", "service"}, "features[0].max_apps": {"3"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	p, err := w.h.Store.PlanBySlug(context.Background(), "silver")
	if err != nil || len(p.Features) != 1 || p.Features[0].MaxApps != 3 || len(p.Features[0].Scopes) != 2 ||
		strings.Join(p.Features[0].AppTypes, ",") != "service,web" {
		t.Fatalf("plan %+v %v", p, err)
	}
	if list := admin.Get("/admin/plans").Body; !strings.Contains(list, "orders:read orders:write") {
		t.Error("the plan list does not show the scopes")
	}
	if e := auditEvent(t, w, "plan.create"); e.ActorID != w.users[platformAdmin].ID {
		t.Errorf("audit: %+v", e)
	}
}

func TestAppNamesAndURLsAreEscaped(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	r := dev.Post("/apps", url.Values{"type": {"web"}, "name": {`<img src=x onerror=alert(1)>`},
		"redirect_uris": {"https://app.example/cb"}, "logo_url": {`https://app.example/logo.png" onerror="alert(1)`}})
	if r.StatusCode == http.StatusOK || r.StatusCode == http.StatusSeeOther {
		// Accepted: the name must come back escaped everywhere.
		for _, page := range []string{"/apps", "/audit"} {
			body := w.as(t, orgAdmin).Get(page).Body
			if strings.Contains(body, "<img src=x") || strings.Contains(body, `" onerror="`) {
				t.Errorf("%s renders app input unescaped", page)
			}
		}
	} else if strings.Contains(r.Body, "<img src=x") {
		t.Error("the refused form echoes the name unescaped")
	}
}

package handlers_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

// serviceApp registers a service app for acme through the registrar and
// returns its client ID and secret.
func (w *world) serviceApp(t *testing.T) (string, string) {
	t.Helper()
	cl, secret, err := w.reg.Register(context.Background(), w.acme.ID, authserver.Actor{Label: "test"},
		authserver.RegisterInput{Name: "Inventory sync", Type: store.ClientService, Scopes: []string{"payments:read"}})
	if err != nil {
		t.Fatal(err)
	}
	return cl.ClientID, secret
}

// token asks /token for a client-credentials token and returns the status
// and body.
func (w *world) token(t *testing.T, clientID, secret string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"payments:read"}}
	req, _ := http.NewRequest(http.MethodPost, w.h.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// refreshFamily plants a live refresh-token family for a user of acme, as
// the authorization server would after a code exchange.
func (w *world) refreshFamily(t *testing.T, u store.User, clientID string) string {
	t.Helper()
	now := w.clock.Now()
	f := store.RefreshFamily{ClientID: clientID, OrgID: u.OrgID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	hash := "h-" + store.NewID()
	if err := w.h.Store.CreateRefreshFamily(context.Background(), &f, store.RefreshToken{Hash: hash, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return hash
}

func (w *world) familyRevoked(t *testing.T, hash string) bool {
	t.Helper()
	_, f, err := w.h.Store.RefreshToken(context.Background(), hash)
	if err != nil {
		t.Fatal(err)
	}
	return !f.RevokedAt.IsZero()
}

// TestSuspensionStopsEverythingAtOnce: the platform admin suspends acme in
// the portal; at once its people are signed out and cannot sign in, its
// apps get no tokens and its refresh tokens are revoked. Reactivating
// brings sign-in and tokens back, not the revoked grants.
func TestSuspensionStopsEverythingAtOnce(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	clientID, secret := w.serviceApp(t)
	if st, body := w.token(t, clientID, secret); st != http.StatusOK {
		t.Fatalf("token before suspension: %d %s", st, body)
	}
	refresh := w.refreshFamily(t, w.users[developer], clientID)

	if r := w.as(t, platformAdmin).Post("/admin/orgs/acme/suspend", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if r := dev.Get("/apps"); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "suspended") {
		t.Errorf("existing session after suspension: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if r := w.h.Client(t).Post("/login", url.Values{"email": {"dev@acme.example"}, "password": {pw}}); r.StatusCode != http.StatusForbidden ||
		!strings.Contains(r.Body, "suspended") {
		t.Errorf("sign-in while suspended: %d", r.StatusCode)
	}
	if st, _ := w.token(t, clientID, secret); st == http.StatusOK {
		t.Error("client credentials still issue tokens while suspended")
	}
	if !w.familyRevoked(t, refresh) {
		t.Error("refresh tokens survived the suspension")
	}
	if r := w.as(t, platformAdmin).Get("/admin/orgs"); !strings.Contains(r.Body, "suspended") {
		t.Error("the organization list does not show the suspension")
	}

	if r := w.as(t, platformAdmin).Post("/admin/orgs/acme/reactivate", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", r.StatusCode)
	}
	w.h.Client(t).Login("dev@acme.example", pw)
	if st, body := w.token(t, clientID, secret); st != http.StatusOK {
		t.Errorf("token after reactivation: %d %s", st, body)
	}
	if !w.familyRevoked(t, refresh) {
		t.Error("reactivation revived a revoked refresh token")
	}
}

// TestPartnershipEndStopsEverything: when valid_until passes, the next
// request of a signed-in member ends their session, sign-in is refused with
// the reason, and client credentials stop; no admin action is needed.
func TestPartnershipEndStopsEverything(t *testing.T) {
	w := newWorld(t)
	end := w.clock.Now().Add(time.Hour)
	r := w.as(t, platformAdmin).Post("/admin/orgs/acme", url.Values{"slug": {"acme"}, "name": {"Acme"},
		"domains": {"acme.example"}, "plan": {"gold"}, "valid_until": {end.Format("2006-01-02T15:04")}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set valid_until: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	mem := w.as(t, member)
	clientID, secret := w.serviceApp(t)
	if st, body := w.token(t, clientID, secret); st != http.StatusOK {
		t.Fatalf("token inside the window: %d %s", st, body)
	}

	w.clock.Advance(2 * time.Hour)
	if r := mem.Get("/"); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "partnership has ended") {
		t.Errorf("session after the end: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if r := mem.Get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the ended session was not deleted: %d", r.StatusCode)
	}
	r = w.h.Client(t).Post("/login", url.Values{"email": {"mia@acme.example"}, "password": {pw}})
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "partnership has ended") {
		t.Errorf("sign-in after the end: %d", r.StatusCode)
	}
	if st, _ := w.token(t, clientID, secret); st == http.StatusOK {
		t.Error("client credentials still work after the partnership ended")
	}
	// Other organizations are untouched.
	w.as(t, otherOrgAdmin)
	if r := w.as(t, otherOrgAdmin).Get("/org/members"); r.StatusCode != http.StatusOK {
		t.Errorf("globex after acme's end: %d", r.StatusCode)
	}
}

// TestSettingAPastEndRevokesRefreshTokens: ending the partnership by
// editing valid_until revokes refresh tokens in the same change, like a
// suspension.
func TestSettingAPastEndRevokesRefreshTokens(t *testing.T) {
	w := newWorld(t)
	clientID, _ := w.serviceApp(t)
	refresh := w.refreshFamily(t, w.users[member], clientID)
	past := w.clock.Now().Add(-time.Minute).Format("2006-01-02T15:04")
	r := w.as(t, platformAdmin).Post("/admin/orgs/acme", url.Values{"slug": {"acme"}, "name": {"Acme"}, "valid_until": {past}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("end now: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if !w.familyRevoked(t, refresh) {
		t.Error("refresh tokens survived the end of the partnership")
	}
}

func TestEndingSoonListsPartnershipsWithin30Days(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	now := w.clock.Now()
	for slug, until := range map[string]time.Time{"soon": now.Add(10 * 24 * time.Hour), "later": now.Add(40 * 24 * time.Hour),
		"ended": now.Add(-time.Hour)} {
		o := store.Organization{Slug: slug, Name: "Org " + slug, ValidUntil: until}
		if err := w.h.Store.CreateOrganization(ctx, &o); err != nil {
			t.Fatal(err)
		}
	}
	r := w.as(t, platformAdmin).Get("/admin/orgs")
	i := strings.Index(r.Body, `id="ending-soon"`)
	j := strings.Index(r.Body, `id="orgs"`)
	if i < 0 || j < i {
		t.Fatalf("no ending-soon section:\n%s", r.Body)
	}
	section := r.Body[i:j]
	if !strings.Contains(section, "Org soon") || !strings.Contains(section, "in 10 days") {
		t.Errorf("soon is missing from the ending-soon list:\n%s", section)
	}
	if strings.Contains(section, "Org later") || strings.Contains(section, "Org ended") {
		t.Errorf("ending-soon lists too much:\n%s", section)
	}
}

func TestOrganizationFormValidatesAndChangesNothing(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, platformAdmin)
	r := admin.Post("/admin/orgs", url.Values{"slug": {"Bad Slug"}, "name": {""}, "domains": {"not a domain!"},
		"plan": {"nope"}, "valid_from": {"2027-01-02T00:00"}, "valid_until": {"2027-01-01T00:00"}})
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: %d", r.StatusCode)
	}
	for _, field := range []string{"slug", "name", "domains", "plan", "valid_until"} {
		if !strings.Contains(r.Body, `id="err-`+field+`"`) {
			t.Errorf("no message for %s", field)
		}
	}
	if !strings.Contains(r.Body, `value="Bad Slug"`) {
		t.Error("the form did not keep what was typed")
	}
	orgs, _ := w.h.Store.Organizations(context.Background())
	if len(orgs) != 3 {
		t.Errorf("a refused form created something: %d organizations", len(orgs))
	}
	r = admin.Post("/admin/orgs", url.Values{"slug": {"initech"}, "name": {"Initech"}, "domains": {"initech.example"}, "plan": {"gold"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	o, err := w.h.Store.OrganizationBySlug(context.Background(), "initech")
	if err != nil || o.PlanID != w.gold.ID || len(o.Domains) != 1 {
		t.Fatalf("created %+v %v", o, err)
	}
	// A taken domain is a field message, not an error page.
	r = admin.Post("/admin/orgs", url.Values{"slug": {"copycat"}, "name": {"Copycat"}, "domains": {"acme.example"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="err-domains"`) {
		t.Errorf("taken domain: %d", r.StatusCode)
	}
}

func TestOrganizationNamesAreEscaped(t *testing.T) {
	w := newWorld(t)
	r := w.as(t, platformAdmin).Post("/admin/orgs", url.Values{"slug": {"evil"}, "name": {`<script>alert(1)</script>`}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", r.StatusCode)
	}
	r = w.as(t, platformAdmin).Get("/admin/orgs")
	if strings.Contains(r.Body, "<script>alert(1)") || !strings.Contains(r.Body, "&lt;script&gt;") {
		t.Error("an organization name reached the page unescaped")
	}
}

// Inputs for registering objects of another organization directly.
var (
	authserverActor = authserver.Actor{Label: "test"}
	regTokenInput   = authserver.RegistrationTokenInput{Description: "ci"}
)

func serviceInput(name string) authserver.RegisterInput {
	return authserver.RegisterInput{Name: name, Type: store.ClientService, Scopes: []string{"payments:read"}}
}

// TestPartnerLifecycleEndToEnd is the "done when": acme's admin
// invites a developer in the portal, the developer joins, registers an app
// and gets tokens; the platform admin ends the partnership and every one of
// those stops at once.
func TestPartnerLifecycleEndToEnd(t *testing.T) {
	w := newWorld(t)
	link := w.invite(t, "newdev@acme.example", store.RoleDeveloper)
	if r := w.h.Client(t).Post(link, url.Values{"name": {"New Dev"}, "password": {pw}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	dev := w.h.Client(t)
	dev.Login("newdev@acme.example", pw)
	r := revealed(t, dev, dev.Post("/apps", url.Values{"type": {"service"}, "name": {"Billing"}, "scopes": {"payments:read"}}))
	secret, id := secretRE.FindStringSubmatch(r.Body), clientIDRE.FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || secret == nil || id == nil {
		t.Fatalf("register: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if st, body := w.token(t, id[1], secret[1]); st != http.StatusOK {
		t.Fatalf("token: %d %s", st, body)
	}

	past := w.clock.Now().Add(-time.Minute).Format("2006-01-02T15:04")
	if r := w.as(t, platformAdmin).Post("/admin/orgs/acme", url.Values{"slug": {"acme"}, "name": {"Acme"},
		"plan": {"gold"}, "valid_until": {past}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("end the partnership: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if r := dev.Get("/apps"); r.StatusCode != http.StatusForbidden {
		t.Errorf("the developer's session survived: %d", r.StatusCode)
	}
	if st, _ := w.token(t, id[1], secret[1]); st == http.StatusOK {
		t.Error("the app still gets tokens")
	}
	if r := w.h.Client(t).Post("/login", url.Values{"email": {"newdev@acme.example"}, "password": {pw}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in after the end: %d", r.StatusCode)
	}
	if r := w.h.Client(t).Get(w.invite0(t)); r.StatusCode != http.StatusGone {
		t.Errorf("an invitation of an ended partnership still opens: %d", r.StatusCode)
	}
}

// invite0 makes an invitation for acme directly (its admin can no longer
// sign in) and returns the link's path.
func (w *world) invite0(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	tok := "tok-" + store.NewID()
	inv := store.Invitation{OrgID: w.acme.ID, Email: "late@acme.example", Role: store.RoleMember,
		TokenHash: sha256Hex(tok), ExpiresAt: w.clock.Now().Add(time.Hour)}
	if err := w.h.Store.CreateInvitation(ctx, &inv); err != nil {
		t.Fatal(err)
	}
	return "/invite/" + tok
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

// TestAdminAPIOrgTokenStopsWithItsOrganization: an organization's API token
// stops working while the organization is suspended or outside its
// partnership window, as its members' sessions and its apps' tokens do; a
// platform token keeps working, and reactivation brings the token back.
func TestAdminAPIOrgTokenStopsWithItsOrganization(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, _ := w.apiToken(t, w.globex, store.APIRoleAdmin)
	platTok, _ := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	if a := w.api(t, tok, http.MethodGet, "/orgs/globex/members", nil); a.Status != http.StatusOK {
		t.Fatalf("active: %d %s", a.Status, a.Raw)
	}
	svc := &partners.Service{Store: w.h.Store, Now: w.clock.Now}
	if _, err := svc.Suspend(ctx, store.Actor{Label: "test"}, "globex"); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, tok, http.MethodGet, "/orgs/globex/members", nil), http.StatusUnauthorized)
	a := w.api(t, tok, http.MethodPost, "/orgs/globex/invitations", map[string]any{"email": "late@globex.example"})
	wantProblem(t, a, http.StatusUnauthorized)
	if invs, _, err := w.h.Store.InvitationPage(ctx, w.globex.ID, store.Page{Limit: 50}); err != nil {
		t.Fatal(err)
	} else {
		for _, i := range invs {
			if i.Email == "late@globex.example" {
				t.Fatal("a suspended organization's token invited someone")
			}
		}
	}
	// The platform may still work on the suspended organization.
	if a := w.api(t, platTok, http.MethodGet, "/orgs/globex/members", nil); a.Status != http.StatusOK {
		t.Fatalf("platform token on a suspended organization: %d %s", a.Status, a.Raw)
	}
	if _, err := svc.Reactivate(ctx, store.Actor{Label: "test"}, "globex"); err != nil {
		t.Fatal(err)
	}
	if a := w.api(t, tok, http.MethodGet, "/orgs/globex/members", nil); a.Status != http.StatusOK {
		t.Fatalf("reactivated: %d %s", a.Status, a.Raw)
	}
	// An ended partnership stops it too.
	end := w.clock.Now().Add(-time.Hour)
	if _, err := svc.UpdateOrg(ctx, store.Actor{Label: "test"}, "globex", partners.OrgInput{ValidUntil: &end}); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, tok, http.MethodGet, "/orgs/globex", nil), http.StatusUnauthorized)
}

// refreshFamilyOf starts a refresh-token family of user at an app of
// another organization (as a shared app would hold) and returns the hash
// of its token.
func refreshFamilyOf(t *testing.T, w *resetWorld, user store.User, clientID string) string {
	t.Helper()
	ctx := context.Background()
	if err := w.Harness.Store.CreateClient(ctx, &store.Client{OrgID: w.globex.ID, ClientID: clientID, Name: clientID,
		Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}); err != nil {
		t.Fatal(err)
	}
	now := w.clock.Now()
	hash := "rt-" + clientID
	f := store.RefreshFamily{ClientID: clientID, OrgID: w.globex.ID, UserID: user.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if err := w.Harness.Store.CreateRefreshFamily(ctx, &f, store.RefreshToken{Hash: hash, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return hash
}

func refreshRevoked(t *testing.T, w *resetWorld, hash string) bool {
	t.Helper()
	_, f, err := w.Harness.Store.RefreshToken(context.Background(), hash)
	if err != nil {
		t.Fatal(err)
	}
	return !f.RevokedAt.IsZero()
}

// TestPasswordResetRevokesAppRefreshTokens: a reset link ends not only the
// account's portal sessions but also every app's refresh tokens of the
// account (a shared app of another organization included), so whoever had
// taken the account over keeps no access through an app. Someone else's
// tokens stay.
func TestPasswordResetRevokesAppRefreshTokens(t *testing.T) {
	w := newResetWorld(t)
	adas := refreshFamilyOf(t, w, w.ada, "wiki")
	mems := refreshFamilyOf(t, w, w.acmeMem, "wiki-2")
	link := issue(t, w.as(t, "admin@acme.example"), "/org/users/"+w.ada.ID+"/reset-link")
	if status, msg := w.useLink(t, link, "a brand new passphrase"); status != http.StatusOK {
		t.Fatalf("using the link: %d %s", status, msg)
	}
	if !refreshRevoked(t, w, adas) {
		t.Error("ada's app refresh token survived the password reset")
	}
	if refreshRevoked(t, w, mems) {
		t.Error("another user's refresh token was revoked")
	}
}

// TestPasswordChangeRevokesAppRefreshTokens: changing the password on the
// account page revokes the account's app refresh tokens as it ends the
// other sessions: whoever else knew the old password is out of the apps too.
func TestPasswordChangeRevokesAppRefreshTokens(t *testing.T) {
	w := newResetWorld(t)
	adas := refreshFamilyOf(t, w, w.ada, "wiki")
	c := w.as(t, "ada@acme.example")
	pw := "a brand new passphrase"
	r := c.Post("/account/password", url.Values{"current": {oldPassword}, "password": {pw}, "confirm": {pw}})
	if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", r.StatusCode, pageError(r.Body))
	}
	if signInStatus(w, t, "ada@acme.example", pw) != http.StatusSeeOther {
		t.Fatal("the new password does not sign in: the change did not happen")
	}
	if !refreshRevoked(t, w, adas) {
		t.Error("ada's app refresh token survived the password change")
	}
}

// TestAdminAPICreateUserRespectsDomainOwnership: an organization's token
// cannot make an identity-pool account with an address of a domain another
// organization owns (the rule invitations follow); its own domain and
// unowned domains work.
func TestAdminAPICreateUserRespectsDomainOwnership(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, _ := w.apiToken(t, w.acme, store.APIRoleAdmin)
	pw := "a long enough passphrase"
	for _, email := range []string{"ceo@globex.example", " CEO2@Globex.Example "} {
		a := w.api(t, tok, http.MethodPost, "/orgs/acme/users", map[string]any{"email": email, "name": "Fake CEO", "password": pw})
		wantProblem(t, a, http.StatusUnprocessableEntity)
	}
	if us, err := w.h.Store.UsersByEmail(ctx, "ceo@globex.example"); err != nil || len(us) != 0 {
		t.Fatalf("an account with globex's address was made in acme: %v %v", us, err)
	}
	for _, email := range []string{"new@acme.example", "someone@unowned.example"} {
		if a := w.api(t, tok, http.MethodPost, "/orgs/acme/users", map[string]any{"email": email, "name": "New", "password": pw}); a.Status != http.StatusCreated {
			t.Fatalf("%s: %d %s", email, a.Status, a.Raw)
		}
	}
}

// TestAdminAPIOrgTokenCannotSetAPIAudience: which plans and organizations
// may use an API is the platform's to set (as on the portal's APIs page);
// an organization's token that tries is refused, and the lookup does not
// tell it which other organizations exist. A platform token may.
func TestAdminAPIOrgTokenCannotSetAPIAudience(t *testing.T) {
	w := newWorld(t)
	tok, _ := w.apiToken(t, w.acme, store.APIRoleAdmin)
	plat, _ := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	body := func(id string, orgs ...string) map[string]any {
		return map[string]any{"identifier": "https://api.acme.example/" + id, "name": id,
			"scopes": []map[string]any{{"name": "acme." + id}}, "allowed_orgs": orgs}
	}
	known := w.api(t, tok, http.MethodPost, "/apis", body("a", "globex"))
	unknown := w.api(t, tok, http.MethodPost, "/apis", body("b", "no-such-org"))
	wantProblem(t, known, http.StatusUnprocessableEntity)
	wantProblem(t, unknown, http.StatusUnprocessableEntity)
	if known.Body["errors"] == nil || fmt.Sprint(known.Body["errors"]) != fmt.Sprint(unknown.Body["errors"]) {
		t.Errorf("an existing and a missing organization answer differently:\n%s\n%s", known.Raw, unknown.Raw)
	}
	if a := w.api(t, plat, http.MethodPost, "/apis", map[string]any{"org": "acme", "identifier": "https://api.acme.example/c",
		"name": "c", "scopes": []map[string]any{{"name": "acme.c"}}, "allowed_orgs": []string{"globex"}}); a.Status != http.StatusCreated {
		t.Fatalf("platform token: %d %s", a.Status, a.Raw)
	}
}

// TestAdminAPIGrantAnswersAlikeForForeignAndMissingClients: an
// organization's token asking for a grant to another organization's client
// gets the answer a client that does not exist gets.
func TestAdminAPIGrantAnswersAlikeForForeignAndMissingClients(t *testing.T) {
	w := newWorld(t)
	tok, _ := w.apiToken(t, w.acme, store.APIRoleAdmin)
	gApp, _, err := w.reg.Register(context.Background(), w.globex.ID, authserver.Actor{Label: "test"},
		authserver.RegisterInput{Name: "Globex sync", Type: store.ClientService})
	if err != nil {
		t.Fatal(err)
	}
	foreign := w.api(t, tok, http.MethodPost, "/tokens", map[string]any{"name": "x", "role": "read", "client_id": gApp.ClientID})
	missing := w.api(t, tok, http.MethodPost, "/tokens", map[string]any{"name": "x", "role": "read", "client_id": "no-such-client"})
	wantProblem(t, foreign, http.StatusUnprocessableEntity)
	wantProblem(t, missing, http.StatusUnprocessableEntity)
	if fmt.Sprint(foreign.Body["errors"]) != fmt.Sprint(missing.Body["errors"]) {
		t.Errorf("another organization's client and a missing one answer differently:\n%s\n%s", foreign.Raw, missing.Raw)
	}
}

// TestAdminAPITokenNeverOutlivesItsMaker: a token made through the API
// expires no later than the credential that made it, whatever lifetime was
// asked for.
func TestAdminAPITokenNeverOutlivesItsMaker(t *testing.T) {
	w := newWorld(t)
	nt, err := (&partners.Service{Store: w.h.Store, Now: w.clock.Now}).CreateAPIToken(context.Background(),
		partners.CLIManager("test"), partners.APITokenInput{Name: "contractor", OrgID: w.acme.ID, Role: store.APIRoleAdmin, TTL: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []map[string]any{
		{"name": "long", "role": "admin", "expires_in_days": 300},
		{"name": "default", "role": "admin"},
	} {
		a := w.api(t, nt.Secret, http.MethodPost, "/tokens", body)
		if a.Status != http.StatusCreated {
			t.Fatalf("%v: %d %s", body, a.Status, a.Raw)
		}
		child, err := w.h.Store.APIToken(context.Background(), "", a.Body["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if child.ExpiresAt.After(nt.Token.ExpiresAt) {
			t.Errorf("%v: the new token expires %s, after its maker (%s)", body, child.ExpiresAt, nt.Token.ExpiresAt)
		}
	}
	// A maker with a long life still makes what is asked.
	long, _ := w.apiToken(t, w.acme, store.APIRoleAdmin)
	a := w.api(t, long, http.MethodPost, "/tokens", map[string]any{"name": "week", "role": "read", "expires_in_days": 7})
	if a.Status != http.StatusCreated {
		t.Fatalf("%d %s", a.Status, a.Raw)
	}
	if child, _ := w.h.Store.APIToken(context.Background(), "", a.Body["id"].(string)); child.ExpiresAt.Sub(w.clock.Now()) < 7*24*time.Hour-time.Minute {
		t.Errorf("a 7-day token expires at %s", child.ExpiresAt)
	}
}

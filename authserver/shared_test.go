package authserver_test

import (
	"net/url"
	"testing"

	"portico/authserver"
	"portico/store"
)

// TestSharedAppIssuesAsTheUsersOrganization: an app of one organization is
// refused to a user of another until it is shared with theirs; then the
// tokens carry the user's organization and plan, and that organization's
// suspension ends them.
func TestSharedAppIssuesAsTheUsersOrganization(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web()
	gold := store.Plan{Slug: "partner-gold", Name: "Partner gold", Features: []store.Feature{{Name: "analytics"}}}
	if err := w.st.CreatePlan(w.ctx, &gold); err != nil {
		t.Fatal(err)
	}
	partner := store.Organization{Slug: "partner", Name: "Partner", PlanID: gold.ID}
	if err := w.st.CreateOrganization(w.ctx, &partner); err != nil {
		t.Fatal(err)
	}
	ann := store.User{OrgID: partner.ID, Email: "ann@partner.example", Name: "Ann", Role: store.RoleMember,
		LocalGroups: []string{"analysts"}}
	if err := w.st.CreateUser(w.ctx, &ann); err != nil {
		t.Fatal(err)
	}
	w.login = func(string) authserver.LoginUser { return authserver.LoginUser{UserID: ann.ID, AuthTime: w.clock()} }

	verifier, challenge := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {web.ClientID}, "redirect_uri": {redirectBase},
		"scope": {"openid offline_access"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if u, status, body := w.authorize(q); u == nil || u.Query().Get("error") != "access_denied" {
		t.Fatalf("an unshared app let another organization's user in: %d %v %s", status, u, body)
	}

	if err := w.st.ShareClient(w.ctx, w.org.ID, web.ClientID, gold.ID); err != nil {
		t.Fatal(err)
	}
	code := w.codeFor(web.ClientID, "openid offline_access", challenge)
	status, body := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}, "code_verifier": {verifier}}, web.ClientID, secret)
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	_, at := claims(t, body["access_token"].(string))
	features, _ := at["features"].([]any)
	if at["org"] != "partner" || len(features) != 1 || features[0] != "analytics" {
		t.Fatalf("access token claims %v: want the user's organization and plan", at)
	}

	if _, _, err := w.st.UpdateOrganization(w.ctx, partner.ID, func(o *store.Organization) error {
		o.Status = store.OrgSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}},
		web.ClientID, secret)
	wantError(t, status, body, 400, "invalid_grant")
}

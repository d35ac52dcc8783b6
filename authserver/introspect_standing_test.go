package authserver_test

import (
	"net/url"
	"testing"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

// TestIntrospectionFollowsTheUsersStanding: a person's access token turns
// inactive at introspection the moment userinfo would refuse it — the member
// removed, disabled, or their organization suspended (for an app shared with
// it, whose own organization stays active).
func TestIntrospectionFollowsTheUsersStanding(t *testing.T) {
	introspect := func(w *world, token string, c creds) map[string]any {
		t.Helper()
		st, in := w.post("/introspect", url.Values{"token": {token}}, c.id, c.secret)
		if st != 200 {
			t.Fatalf("introspect: %d %v", st, in)
		}
		return in
	}
	// tokens returns an access token of a grant without offline_access
	// (no refresh family, so revoking the user's families does not reach
	// it) and a refresh token of another grant.
	tokens := func(w *world, clientID, secret string) (at, rt string) {
		t.Helper()
		grant := func(scope string) map[string]any {
			code := w.codeFor(clientID, scope, "")
			st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirectBase}}, clientID, secret)
			if st != 200 {
				t.Fatalf("code exchange: %d %v", st, tok)
			}
			return tok
		}
		at, _ = grant("openid orders:read")["access_token"].(string)
		rt, _ = grant("openid offline_access orders:read")["refresh_token"].(string)
		return at, rt
	}
	for _, tc := range []struct {
		name string
		end  func(w *world) error
	}{
		{"member removed", func(w *world) error {
			svc := &partners.Service{Store: w.st, Now: w.clock}
			return svc.RemoveMember(w.ctx, partners.CLIManager("test"), w.org.ID, w.user.ID)
		}},
		{"user disabled", func(w *world) error {
			_, _, err := w.st.UpdateUser(w.ctx, w.org.ID, w.user.ID, func(u *store.User) error {
				u.Status = store.UserDisabled
				return nil
			})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			web, secret := w.web("orders:read")
			me := creds{web.ClientID, secret}
			at, rt := tokens(w, web.ClientID, secret)
			if in := introspect(w, at, me); in["active"] != true {
				t.Fatalf("before: %v", in)
			}
			if err := tc.end(w); err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]string{"access": at, "refresh": rt} {
				if in := introspect(w, tok, me); in["active"] != false {
					t.Errorf("%s token after %s: %v", name, tc.name, in)
				}
			}
		})
	}
	t.Run("shared app, user's organization suspended", func(t *testing.T) {
		w := newWorld(t)
		web, secret := w.web()
		partner := storeOrg(w, "partner")
		ann := store.User{OrgID: partner.ID, Email: "ann@partner.example", Name: "Ann", Role: store.RoleMember}
		if err := w.st.CreateUser(w.ctx, &ann); err != nil {
			t.Fatal(err)
		}
		if err := w.st.ShareClient(w.ctx, w.org.ID, web.ClientID, ""); err != nil {
			t.Fatal(err)
		}
		w.login = func(string) authserver.LoginUser { return authserver.LoginUser{UserID: ann.ID, AuthTime: w.clock()} }
		code := w.codeFor(web.ClientID, "openid", "")
		st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectBase}}, web.ClientID, secret)
		if st != 200 {
			t.Fatalf("code exchange: %d %v", st, tok)
		}
		at := tok["access_token"].(string)
		// The partner's resource server introspects tokens issued under its organization.
		rs, rsSecret, err := w.reg.Register(w.ctx, partner.ID, cli, authserver.RegisterInput{Name: "api",
			Type: store.ClientService, GrantTypes: []string{"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		api := creds{rs.ClientID, rsSecret}
		if in := introspect(w, at, api); in["active"] != true {
			t.Fatalf("before: %v", in)
		}
		if _, _, err := w.st.UpdateOrganization(w.ctx, partner.ID, func(o *store.Organization) error {
			o.Status = store.OrgSuspended
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if in := introspect(w, at, api); in["active"] != false {
			t.Fatalf("after suspension: %v", in)
		}
	})
}

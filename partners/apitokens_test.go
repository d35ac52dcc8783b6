package partners_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"portico/partners"
	"portico/store"
)

// TestAPITokenRules: who may make which admin API credential, and what
// input is refused (with nothing stored).
func TestAPITokenRules(t *testing.T) {
	ctx := context.Background()
	st, svc := open(t)
	var acme, globex store.Organization
	for _, o := range []*store.Organization{&acme, &globex} {
		o.Slug, o.Name = "o"+store.NewID()[:8], "Org"
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	orgAdmin := partners.Manager{Actor: store.Actor{Label: "ada"}, OrgID: acme.ID, Role: store.RoleAdmin}
	developer := partners.Manager{Actor: store.Actor{Label: "dev"}, OrgID: acme.ID, Role: store.RoleDeveloper}
	platform := partners.CLIManager("test")
	ok := partners.APITokenInput{Name: "CRM", Role: store.APIRoleRead}

	for _, c := range []struct {
		name string
		m    partners.Manager
		in   func(partners.APITokenInput) partners.APITokenInput
		want string // "" ok; "not allowed"; else the field refused
	}{
		{"platform token by the platform", platform, func(i partners.APITokenInput) partners.APITokenInput { return i }, ""},
		{"platform token by an org admin", orgAdmin, func(i partners.APITokenInput) partners.APITokenInput { return i }, "not allowed"},
		{"own org by an org admin", orgAdmin, func(i partners.APITokenInput) partners.APITokenInput { i.OrgID = acme.ID; return i }, ""},
		{"another org by an org admin", orgAdmin, func(i partners.APITokenInput) partners.APITokenInput { i.OrgID = globex.ID; return i }, "not allowed"},
		{"own org by a developer", developer, func(i partners.APITokenInput) partners.APITokenInput { i.OrgID = acme.ID; return i }, "not allowed"},
		{"no name", platform, func(i partners.APITokenInput) partners.APITokenInput { i.Name = " "; return i }, "name"},
		{"bad role", platform, func(i partners.APITokenInput) partners.APITokenInput { i.Role = "root"; return i }, "role"},
		{"too long", platform, func(i partners.APITokenInput) partners.APITokenInput { i.TTL = 400 * 24 * time.Hour; return i }, "expires_in"},
		{"too short", platform, func(i partners.APITokenInput) partners.APITokenInput { i.TTL = time.Minute; return i }, "expires_in"},
		{"unknown client", platform, func(i partners.APITokenInput) partners.APITokenInput { i.ClientID = "nope"; return i }, "client_id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, _ := st.APITokens(ctx, "")
			nt, err := svc.CreateAPIToken(ctx, c.m, c.in(ok))
			after, _ := st.APITokens(ctx, "")
			switch {
			case c.want == "":
				if err != nil || !strings.HasPrefix(nt.Secret, partners.APITokenPrefix) || len(after) != len(before)+1 {
					t.Fatalf("refused: %v", err)
				}
				got, err := st.APITokenByHash(ctx, partners.HashAPIToken(nt.Secret))
				if err != nil || got.ID != nt.Token.ID || got.TokenHash == nt.Secret {
					t.Fatalf("stored: %+v %v", got, err)
				}
			case c.want == "not allowed":
				if !errors.Is(err, partners.ErrNotAllowed) || len(after) != len(before) {
					t.Fatalf("got %v", err)
				}
			default:
				var fe partners.FieldErrors
				if !errors.As(err, &fe) || fe[c.want] == "" || len(after) != len(before) {
					t.Fatalf("got %v, want a %s error", err, c.want)
				}
			}
		})
	}
	// An org admin revokes their organization's tokens only.
	g, err := svc.CreateAPIToken(ctx, platform, partners.APITokenInput{Name: "g", OrgID: globex.ID, Role: store.APIRoleRead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RevokeAPIToken(ctx, orgAdmin, g.Token.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an org admin revoked another org's token: %v", err)
	}
	if _, err := svc.RevokeAPIToken(ctx, developer, g.Token.ID); !errors.Is(err, partners.ErrNotAllowed) {
		t.Errorf("a developer revoked: %v", err)
	}
	if _, err := svc.RevokeAPIToken(ctx, platform, g.Token.ID); err != nil {
		t.Fatal(err)
	}
}

// TestPlatformGrantOnlyForThePlatformsClients: a platform-wide grant is
// platform admin power, so it goes only to a client of the platform's own
// organization (one with a platform admin); a partner organization's
// client, whose secret that partner's developers hold, gets an
// organization-scoped grant at most.
func TestPlatformGrantOnlyForThePlatformsClients(t *testing.T) {
	ctx := context.Background()
	st, svc := open(t)
	var platformOrg, partner store.Organization
	for _, o := range []*store.Organization{&platformOrg, &partner} {
		o.Slug, o.Name = "o"+store.NewID()[:8], "Org"
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	admin := store.User{OrgID: platformOrg.ID, Email: "root@platform.example", Name: "Root", Role: store.RoleAdmin, PlatformAdmin: true}
	if err := st.CreateUser(ctx, &admin); err != nil {
		t.Fatal(err)
	}
	// A partner's admin who is not a platform admin does not make it the platform.
	if err := st.CreateUser(ctx, &store.User{OrgID: partner.ID, Email: "ada@partner.example", Name: "Ada", Role: store.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	client := func(orgID string) string {
		c := store.Client{OrgID: orgID, ClientID: store.NewID(), Name: "sync", Type: store.ClientService, Enabled: true}
		if err := st.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
		return c.ClientID
	}
	platform := partners.CLIManager("test")
	grant := func(orgID, clientID string) error {
		_, err := svc.CreateAPIToken(ctx, platform, partners.APITokenInput{Name: "g", OrgID: orgID, Role: store.APIRoleAdmin, ClientID: clientID})
		return err
	}
	partnerClient := client(partner.ID)
	before, _ := st.APITokens(ctx, "")
	var fe partners.FieldErrors
	if err := grant("", partnerClient); !errors.As(err, &fe) || fe["client_id"] == "" {
		t.Fatalf("platform-wide grant to a partner's client: %v", err)
	}
	if after, _ := st.APITokens(ctx, ""); len(after) != len(before) {
		t.Fatal("a refused grant was stored")
	}
	if err := grant(partner.ID, partnerClient); err != nil {
		t.Fatalf("organization-scoped grant to the partner's client: %v", err)
	}
	if err := grant("", client(platformOrg.ID)); err != nil {
		t.Fatalf("platform-wide grant to the platform's client: %v", err)
	}
	// A platform admin who is disabled no longer makes their organization the platform's.
	if _, _, err := st.UpdateUser(ctx, platformOrg.ID, admin.ID, func(u *store.User) error { u.Status = store.UserDisabled; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := grant("", client(platformOrg.ID)); !errors.As(err, &fe) || fe["client_id"] == "" {
		t.Fatalf("platform-wide grant without an active platform admin: %v", err)
	}
}

// TestAPITokenStopsWithItsMaker: a credential works only while the member
// who made it may still make it (exists, is active, is in an active
// organization, keeps the admin role or platform admin flag), and while
// the credential it was made with through the API still works.
func TestAPITokenStopsWithItsMaker(t *testing.T) {
	ctx := context.Background()
	st, svc := open(t)
	var acme, staff store.Organization
	for _, o := range []*store.Organization{&acme, &staff} {
		o.Slug, o.Name = "o"+store.NewID()[:8], "Org"
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	ada := store.User{OrgID: acme.ID, Email: "ada@acme.example", Name: "Ada", Role: store.RoleAdmin}
	root := store.User{OrgID: staff.ID, Email: "root@staff.example", Name: "Root", Role: store.RoleAdmin, PlatformAdmin: true}
	for _, u := range []*store.User{&ada, &root} {
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(m partners.Manager, orgID string) store.APIToken {
		t.Helper()
		nt, err := svc.CreateAPIToken(ctx, m, partners.APITokenInput{Name: "t", OrgID: orgID, Role: store.APIRoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		return nt.Token
	}
	adaM := partners.Manager{Actor: store.Actor{UserID: ada.ID, Label: ada.Email}, OrgID: acme.ID, Role: store.RoleAdmin}
	rootM := partners.Manager{Actor: store.Actor{UserID: root.ID, Label: root.Email}, OrgID: staff.ID, Role: store.RoleAdmin, PlatformAdmin: true}
	byAda := mk(adaM, acme.ID)
	child := mk(partners.Manager{Actor: store.Actor{Label: "api-token:" + byAda.ID}, OrgID: acme.ID, Role: store.RoleAdmin, TokenID: byAda.ID}, acme.ID)
	platform := mk(rootM, "")
	forAcme := mk(rootM, acme.ID)
	cli := mk(partners.CLIManager("cli"), "")
	if child.CreatedByTokenID != byAda.ID || byAda.CreatedByUserID != ada.ID {
		t.Fatalf("makers not recorded: %+v %+v", byAda, child)
	}
	stopped := func(tk store.APIToken) bool {
		t.Helper()
		r, err := svc.MakerStanding(ctx, tk)
		if err != nil {
			t.Fatal(err)
		}
		return r != ""
	}
	want := func(step string, live ...bool) {
		t.Helper()
		for i, tk := range []store.APIToken{byAda, child, platform, forAcme, cli} {
			if stopped(tk) == live[i] {
				t.Errorf("%s: token %d stopped=%v, want %v", step, i, !live[i], !live[i])
			}
		}
	}
	update := func(u store.User, f func(*store.User)) {
		t.Helper()
		if _, _, err := st.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error { f(x); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	want("made", true, true, true, true, true)
	update(ada, func(u *store.User) { u.Role = store.RoleDeveloper })
	want("ada demoted", false, false, true, true, true)
	update(ada, func(u *store.User) { u.Role = store.RoleAdmin })
	want("ada admin again", true, true, true, true, true)
	update(ada, func(u *store.User) { u.Status = store.UserDisabled })
	want("ada disabled", false, false, true, true, true)
	update(ada, func(u *store.User) { u.Status = store.UserActive })
	update(root, func(u *store.User) { u.PlatformAdmin = false })
	// A platform admin made forAcme; as acme's outsider they may no longer.
	want("root no longer platform admin", true, true, false, false, true)
	update(root, func(u *store.User) { u.PlatformAdmin = true })
	if _, _, err := st.UpdateOrganization(ctx, staff.ID, func(o *store.Organization) error { o.Status = store.OrgSuspended; return nil }); err != nil {
		t.Fatal(err)
	}
	want("root's organization suspended", true, true, false, false, true)
	if _, _, err := st.UpdateOrganization(ctx, staff.ID, func(o *store.Organization) error { o.Status = store.OrgActive; return nil }); err != nil {
		t.Fatal(err)
	}
	want("root's organization active again", true, true, true, true, true)
	if _, err := svc.RevokeAPIToken(ctx, partners.CLIManager("cli"), byAda.ID); err != nil {
		t.Fatal(err)
	}
	if !stopped(child) {
		t.Error("a credential outlived the revoked credential it was made with")
	}
	if err := st.DeleteUser(ctx, root.OrgID, root.ID); err != nil {
		t.Fatal(err)
	}
	if !stopped(platform) || stopped(cli) {
		t.Error("after removing its maker")
	}
}

// TestTokenMadeWithAGrantStopsWithItsClient: a credential made with a
// client grant stops when that grant could no longer act: its client is
// disabled or deleted, or the grant is platform-wide for a partner
// organization's client (made before that was refused); one made with the
// platform's own client's grant works.
func TestTokenMadeWithAGrantStopsWithItsClient(t *testing.T) {
	ctx := context.Background()
	st, svc := open(t)
	var platformOrg, partner store.Organization
	for _, o := range []*store.Organization{&platformOrg, &partner} {
		o.Slug, o.Name = "o"+store.NewID()[:8], "Org"
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateUser(ctx, &store.User{OrgID: platformOrg.ID, Email: "root@platform.example", Name: "Root",
		Role: store.RoleAdmin, PlatformAdmin: true}); err != nil {
		t.Fatal(err)
	}
	// made stores a grant of a new client of clientOrg for grantOrg ("":
	// platform-wide; stored directly, as one made before the rule) and
	// returns that client and a token made with the grant.
	made := func(clientOrg, grantOrg string) (store.Client, store.APIToken) {
		t.Helper()
		c := store.Client{OrgID: clientOrg, ClientID: store.NewID(), Name: "sync", Type: store.ClientService, Enabled: true}
		if err := st.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
		g := store.APIToken{Name: "g", OrgID: grantOrg, Role: store.APIRoleAdmin, ClientID: c.ClientID, CreatedBy: "cli",
			ExpiresAt: time.Now().Add(time.Hour)}
		if err := st.CreateAPIToken(ctx, &g); err != nil {
			t.Fatal(err)
		}
		m := partners.Manager{Actor: store.Actor{Label: "api-client:" + c.ClientID}, OrgID: grantOrg, Role: store.RoleAdmin,
			PlatformAdmin: grantOrg == "", TokenID: g.ID}
		nt, err := svc.CreateAPIToken(ctx, m, partners.APITokenInput{Name: "t", OrgID: grantOrg, Role: store.APIRoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		return c, nt.Token
	}
	stopped := func(what string, tk store.APIToken, want bool) {
		t.Helper()
		r, err := svc.MakerStanding(ctx, tk)
		if err != nil {
			t.Fatal(err)
		}
		if (r != "") != want {
			t.Errorf("%s: stopped %q, want stopped=%v", what, r, want)
		}
	}
	_, partnersPlatform := made(partner.ID, "")
	stopped("made with a partner's platform-wide grant", partnersPlatform, true)
	_, platforms := made(platformOrg.ID, "")
	stopped("made with the platform's own grant", platforms, false)

	cl, scoped := made(partner.ID, partner.ID)
	stopped("made with a partner's own grant", scoped, false)
	if _, _, err := st.UpdateClient(ctx, partner.ID, cl.ID, func(c *store.Client) error { c.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	stopped("its grant's client disabled", scoped, true)
	if _, _, err := st.UpdateClient(ctx, partner.ID, cl.ID, func(c *store.Client) error { c.Enabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	stopped("its grant's client enabled again", scoped, false)
	if err := st.DeleteClient(ctx, partner.ID, cl.ID); err != nil {
		t.Fatal(err)
	}
	stopped("its grant's client deleted", scoped, true)
}

package partners_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"portico/partners"
	"portico/store"
	"portico/store/storetest"
)

func open(t *testing.T) (*store.Store, *partners.Service) {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, &partners.Service{Store: st, Now: time.Now}
}

func TestEndingSoon(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	orgs := []store.Organization{
		{Slug: "open"},
		{Slug: "in-20", ValidUntil: now.Add(20 * day)},
		{Slug: "in-2", ValidUntil: now.Add(2 * day)},
		{Slug: "in-30", ValidUntil: now.Add(30 * day)},
		{Slug: "in-31", ValidUntil: now.Add(31 * day)},
		{Slug: "ended", ValidUntil: now.Add(-day)},
		{Slug: "suspended", ValidUntil: now.Add(day), Status: store.OrgSuspended},
	}
	got := partners.EndingSoon(orgs, now, partners.EndingSoonWindow)
	var slugs []string
	for _, o := range got {
		slugs = append(slugs, o.Slug)
	}
	if want := []string{"in-2", "in-20", "in-30"}; !equal(slugs, want) {
		t.Fatalf("got %v, want %v (soonest first, active only)", slugs, want)
	}
}

func TestPlanValidationReportsEveryFeatureProblem(t *testing.T) {
	st, svc := open(t)
	ctx := context.Background()
	slug, name := "gold", "Gold"
	feats := []partners.FeatureInput{
		{Name: "", Scopes: []string{"ok:read"}},
		{Name: "dup"}, {Name: "dup", Scopes: []string{`bad"scope`}, AppTypes: []string{"mainframe"}, MaxApps: -1},
	}
	_, err := svc.CreatePlan(ctx, store.Actor{Label: "t"}, partners.PlanInput{Slug: &slug, Name: &name, Features: &feats})
	var fe partners.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("got %v", err)
	}
	for _, k := range []string{"features[0].name", "features[2].name", "features[2].scopes", "features[2].app_types", "features[2].max_apps"} {
		if fe[k] == "" {
			t.Errorf("no message for %s in %v", k, fe)
		}
	}
	if _, err := st.PlanBySlug(ctx, "gold"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("a refused plan was stored")
	}
}

func TestManagersStayInTheirOrganizationAndRank(t *testing.T) {
	st, svc := open(t)
	ctx := context.Background()
	acme := store.Organization{Slug: "acme", Name: "Acme"}
	other := store.Organization{Slug: "other", Name: "Other"}
	st.CreateOrganization(ctx, &acme)
	st.CreateOrganization(ctx, &other)
	mk := func(org store.Organization, email string, role store.Role, pa bool) store.User {
		u := store.User{OrgID: org.ID, Email: email, Name: email, Role: role, PlatformAdmin: pa}
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := mk(acme, "admin@acme", store.RoleAdmin, false)
	dev := mk(acme, "dev@acme", store.RoleDeveloper, false)
	boss := mk(acme, "boss@acme", store.RoleAdmin, true)
	stranger := mk(other, "x@other", store.RoleMember, false)
	asAdmin := partners.Manager{Actor: store.Actor{UserID: admin.ID, Label: admin.Email}, OrgID: acme.ID, Role: store.RoleAdmin}
	asDev := partners.Manager{Actor: store.Actor{UserID: dev.ID, Label: dev.Email}, OrgID: acme.ID, Role: store.RoleDeveloper}

	if _, err := svc.ChangeRole(ctx, asDev, acme.ID, admin.ID, store.RoleMember); !errors.Is(err, partners.ErrNotAllowed) {
		t.Errorf("a developer changed a role: %v", err)
	}
	if _, err := svc.Invite(ctx, asDev, acme.ID, partners.InviteInput{Email: "a@b.example", Role: store.RoleMember}); !errors.Is(err, partners.ErrNotAllowed) {
		t.Errorf("a developer invited: %v", err)
	}
	if _, err := svc.ChangeRole(ctx, asAdmin, other.ID, stranger.ID, store.RoleAdmin); !errors.Is(err, partners.ErrNotAllowed) {
		t.Errorf("an admin changed another organization: %v", err)
	}
	// Asking for acme with another org's user ID is not found, not allowed.
	if _, err := svc.ChangeRole(ctx, asAdmin, acme.ID, stranger.ID, store.RoleAdmin); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another org's user through acme: %v", err)
	}
	var fe partners.FieldErrors
	if _, err := svc.ChangeRole(ctx, asAdmin, acme.ID, boss.ID, store.RoleMember); !errors.As(err, &fe) {
		t.Errorf("an org admin demoted a platform admin: %v", err)
	}
	if err := svc.RemoveMember(ctx, asAdmin, acme.ID, admin.ID); !errors.As(err, &fe) {
		t.Errorf("an admin removed themselves: %v", err)
	}
	if m, err := svc.ChangeRole(ctx, asAdmin, acme.ID, dev.ID, store.RoleAdmin); err != nil || m.Role != store.RoleAdmin {
		t.Errorf("promotion within reach: %v %+v", err, m)
	}
	cli := partners.CLIManager("cli")
	if m, err := svc.ChangeRole(ctx, cli, other.ID, stranger.ID, store.RoleDeveloper); err != nil || m.Role != store.RoleDeveloper {
		t.Errorf("the CLI manages any organization: %v", err)
	}
}

func TestInvitationRaceAcceptsOnce(t *testing.T) {
	st, svc := open(t)
	ctx := context.Background()
	acme := store.Organization{Slug: "acme", Name: "Acme"}
	st.CreateOrganization(ctx, &acme)
	inv, err := svc.Invite(ctx, partners.CLIManager("cli"), acme.ID, partners.InviteInput{Email: "a@b.example", Role: store.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	pw := plainPasswords{}
	if _, err := svc.AcceptInvitation(ctx, pw, inv.Token, partners.AcceptInput{Name: "A", Password: "long enough password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvitation(ctx, pw, inv.Token, partners.AcceptInput{Name: "B", Password: "long enough password"}); !errors.Is(err, partners.ErrInvitationUnusable) {
		t.Fatalf("second acceptance: %v", err)
	}
	if _, err := svc.AcceptInvitation(ctx, pw, "forged", partners.AcceptInput{Name: "C", Password: "long enough password"}); !errors.Is(err, partners.ErrInvitationUnusable) {
		t.Fatalf("forged token: %v", err)
	}
}

type plainPasswords struct{}

func (plainPasswords) Weakness(string) string         { return "" }
func (plainPasswords) Hash(pw string) (string, error) { return "x" + pw, nil }

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReservedSlugs(t *testing.T) {
	_, svc := open(t)
	slug, name := "new", "New"
	var fe partners.FieldErrors
	if _, err := svc.CreateOrg(context.Background(), store.Actor{Label: "t"}, partners.OrgInput{Slug: &slug, Name: &name}); !errors.As(err, &fe) || fe["slug"] == "" {
		t.Errorf("org slug new: %v", err)
	}
	if _, err := svc.CreatePlan(context.Background(), store.Actor{Label: "t"}, partners.PlanInput{Slug: &slug, Name: &name}); !errors.As(err, &fe) || fe["slug"] == "" {
		t.Errorf("plan slug new: %v", err)
	}
}

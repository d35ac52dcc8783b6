package partners_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"portico/partners"
	"portico/store"
)

// invWorld is acme and globex, which owns globex.example, with acme's admin.
func invWorld(t *testing.T) (*store.Store, *partners.Service, store.Organization, store.Organization, partners.Manager) {
	t.Helper()
	st, svc := open(t)
	ctx := context.Background()
	acme := store.Organization{Slug: "acme", Name: "Acme", Domains: []string{"acme.example"}}
	globex := store.Organization{Slug: "globex", Name: "Globex", Domains: []string{"globex.example"}}
	for _, o := range []*store.Organization{&acme, &globex} {
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	admin := store.User{OrgID: acme.ID, Email: "admin@acme.example", Name: "Admin", Role: store.RoleAdmin}
	if err := st.CreateUser(ctx, &admin); err != nil {
		t.Fatal(err)
	}
	m := partners.Manager{Actor: store.Actor{UserID: admin.ID, Label: admin.Email}, OrgID: acme.ID, Role: store.RoleAdmin}
	return st, svc, acme, globex, m
}

// TestInviteRefusesAnotherOrganizationsDomain: an org admin of acme cannot
// invite ceo@globex.example (globex owns the domain, and sign-in would
// send that address to globex), and is not told which organization owns
// it; a platform admin is. Nothing is stored either way.
func TestInviteRefusesAnotherOrganizationsDomain(t *testing.T) {
	st, svc, acme, _, orgAdmin := invWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		m       partners.Manager
		want    string
		notWant string
	}{
		{"org admin", orgAdmin, "belongs to another organization", "Globex"},
		{"platform admin", partners.CLIManager("cli"), "belongs to the organization Globex (globex)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Invite(ctx, tc.m, acme.ID, partners.InviteInput{Email: "CEO@Globex.example", Role: store.RoleMember})
			var fe partners.FieldErrors
			if !errors.As(err, &fe) || !strings.Contains(fe["email"], tc.want) ||
				(tc.notWant != "" && strings.Contains(fe["email"], tc.notWant)) {
				t.Fatalf("got %v, want an email error saying %q", err, tc.want)
			}
		})
	}
	if invs, _ := st.Invitations(ctx, acme.ID); len(invs) != 0 {
		t.Fatalf("refused invitations were stored: %+v", invs)
	}
	// Its own domain and unowned domains stay open.
	for _, email := range []string{"new@acme.example", "friend@gmail.example"} {
		if _, err := svc.Invite(ctx, orgAdmin, acme.ID, partners.InviteInput{Email: email, Role: store.RoleMember}); err != nil {
			t.Errorf("%s: %v", email, err)
		}
	}
}

// TestInvitationAcceptedLaterInAClaimedDomain: a domain another
// organization claims after the invitation was made closes the link too.
func TestInvitationAcceptedLaterInAClaimedDomain(t *testing.T) {
	st, svc, acme, globex, m := invWorld(t)
	ctx := context.Background()
	inv, err := svc.Invite(ctx, m, acme.ID, partners.InviteInput{Email: "kim@initech.example", Role: store.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UpdateOrganization(ctx, globex.ID, func(o *store.Organization) error {
		o.Domains = append(o.Domains, "initech.example")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptInvitation(ctx, plainPasswords{}, inv.Token, partners.AcceptInput{Name: "Kim", Password: "long enough password"}); !errors.Is(err, partners.ErrInvitationUnusable) {
		t.Fatalf("accepted into a domain globex now owns: %v", err)
	}
	if _, err := st.UserByEmail(ctx, acme.ID, "kim@initech.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an account was created: %v", err)
	}
}

// TestInvitationProvesTheMailboxOnlyWhenMailed: accepting a link that was
// shown to the inviter leaves the email unverified; accepting one that
// went only to the mailbox verifies it.
func TestInvitationProvesTheMailboxOnlyWhenMailed(t *testing.T) {
	st, svc, acme, _, m := invWorld(t)
	ctx := context.Background()
	for _, tc := range []struct {
		email  string
		mailed bool
	}{{"shown@acme.example", false}, {"mailed@acme.example", true}} {
		inv, err := svc.Invite(ctx, m, acme.ID, partners.InviteInput{Email: tc.email, Role: store.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		if tc.mailed {
			if err := svc.InvitationMailed(ctx, m, inv.Invitation); err != nil {
				t.Fatal(err)
			}
		}
		u, err := svc.AcceptInvitation(ctx, plainPasswords{}, inv.Token, partners.AcceptInput{Name: "X", Password: "long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := st.User(ctx, acme.ID, u.ID)
		if err != nil || stored.EmailVerified != tc.mailed {
			t.Errorf("%s: email_verified = %v (%v), want %v", tc.email, stored.EmailVerified, err, tc.mailed)
		}
	}
	// Another organization's admin cannot mark acme's invitation mailed.
	inv, _ := svc.Invite(ctx, m, acme.ID, partners.InviteInput{Email: "third@acme.example", Role: store.RoleMember})
	other := partners.Manager{Actor: store.Actor{Label: "x"}, OrgID: "someone-else", Role: store.RoleAdmin}
	if err := svc.InvitationMailed(ctx, other, inv.Invitation); !errors.Is(err, partners.ErrNotAllowed) {
		t.Fatalf("another org's admin: %v", err)
	}
}

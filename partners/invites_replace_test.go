package partners_test

import (
	"context"
	"testing"

	"portico/partners"
	"portico/store"
)

func pendingFor(t *testing.T, st *store.Store, orgID, email string) []store.Invitation {
	t.Helper()
	all, err := st.Invitations(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Invitation
	for _, i := range all {
		if i.Email == email && i.AcceptedAt.IsZero() && i.RevokedAt.IsZero() {
			out = append(out, i)
		}
	}
	return out
}

// A second invitation to the same address replaces the first: the first
// link stops working, and only the newest, with its role, is pending.
func TestASecondInvitationReplacesTheFirst(t *testing.T) {
	st, svc, acme, _, admin := invWorld(t)
	ctx := context.Background()
	first, err := svc.Invite(ctx, admin, acme.ID, partners.InviteInput{Email: "new@acme.example", Role: store.RoleDeveloper})
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Invite(ctx, admin, acme.ID, partners.InviteInput{Email: "New@acme.example", Role: store.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	p := pendingFor(t, st, acme.ID, "new@acme.example")
	if len(p) != 1 || p[0].ID != second.Invitation.ID || p[0].Role != store.RoleMember {
		t.Fatalf("pending after a second invitation: %+v", p)
	}
	if err := st.ConsumeInvitation(ctx, acme.ID, first.Invitation.ID, "someone", st.Now()); err == nil {
		t.Error("the replaced invitation can still be accepted")
	}
}

// Removing a member revokes their pending invitations, so an old link
// cannot bring them back.
func TestRemovingAMemberRevokesTheirInvitations(t *testing.T) {
	st, svc, acme, _, admin := invWorld(t)
	ctx := context.Background()
	inv, err := svc.Invite(ctx, admin, acme.ID, partners.InviteInput{Email: "leaver@acme.example", Role: store.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	// The person joined another way meanwhile (an identity provider).
	u := store.User{OrgID: acme.ID, Email: "leaver@acme.example", Name: "Leaver", Role: store.RoleMember}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveMember(ctx, admin, acme.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if p := pendingFor(t, st, acme.ID, "leaver@acme.example"); len(p) != 0 {
		t.Fatalf("pending invitations of a removed member: %+v", p)
	}
	if err := st.ConsumeInvitation(ctx, acme.ID, inv.Invitation.ID, "someone", st.Now()); err == nil {
		t.Error("the removed member's invitation can still be accepted")
	}
}

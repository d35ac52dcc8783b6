package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestInvitationIsConsumedOnce proves the guard partners relies on when two
// browsers accept one link at the same moment: both may pass the pending
// check, but only one ConsumeInvitation succeeds. Revoking is scoped to the
// organization and refuses an invitation that is no longer pending.
func TestInvitationIsConsumedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		acme, globex := mustOrg(t, s, "acme"), mustOrg(t, s, "globex")
		now := time.Now()
		newInv := func(hash string) store.Invitation {
			t.Helper()
			i := store.Invitation{OrgID: acme.ID, Email: "a@b.example", Role: store.RoleMember, TokenHash: hash,
				ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateInvitation(ctx, &i); err != nil {
				t.Fatal(err)
			}
			return i
		}

		inv := newInv("h1")
		if err := s.ConsumeInvitation(ctx, globex.ID, inv.ID, "u1", now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("another organization consumed it: %v", err)
		}
		if err := s.ConsumeInvitation(ctx, acme.ID, inv.ID, "u1", now); err != nil {
			t.Fatal(err)
		}
		if err := s.ConsumeInvitation(ctx, acme.ID, inv.ID, "u2", now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second consumption: %v, want ErrConflict", err)
		}
		if got, _ := s.Invitation(ctx, acme.ID, inv.ID); got.AcceptedBy != "u1" || got.State(now) != "accepted" {
			t.Errorf("after consumption: %+v", got)
		}

		if err := s.ConsumeInvitation(ctx, acme.ID, newInv("h2").ID, "u3", now.Add(2*time.Hour)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("expired invitation consumed: %v", err)
		}

		pending := newInv("h3")
		if err := s.RevokeInvitation(ctx, globex.ID, pending.ID, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke from another organization: %v, want ErrNotFound", err)
		}
		if err := s.RevokeInvitation(ctx, acme.ID, pending.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeInvitation(ctx, acme.ID, pending.ID, now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("revoking twice: %v, want ErrConflict", err)
		}
		if err := s.RevokeInvitation(ctx, acme.ID, inv.ID, now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("revoking an accepted invitation: %v, want ErrConflict", err)
		}
	})
}

// TestMarkInvitationMailed: the flag is stored and read back, only for a
// pending invitation of the same organization.
func TestMarkInvitationMailed(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	acme, globex := mustOrg(t, s, "acme"), mustOrg(t, s, "globex")
	now := time.Now()
	i := store.Invitation{OrgID: acme.ID, Email: "a@b.example", Role: store.RoleMember, TokenHash: "h",
		ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateInvitation(ctx, &i); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.InvitationByTokenHash(ctx, "h"); got.LinkMailed {
		t.Fatal("a new invitation counts as mailed")
	}
	if err := s.MarkInvitationMailed(ctx, globex.ID, i.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organization: %v, want ErrNotFound", err)
	}
	if err := s.MarkInvitationMailed(ctx, acme.ID, i.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.InvitationByTokenHash(ctx, "h"); !got.LinkMailed {
		t.Error("the mark was not stored")
	}
	if err := s.ConsumeInvitation(ctx, acme.ID, i.ID, "u", now); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkInvitationMailed(ctx, acme.ID, i.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("an accepted invitation: %v, want ErrConflict", err)
	}
}

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// Deleting a connection is scoped to its organization, takes its links
// and leaves the accounts; the impact counts say who loses what; pending
// invitations to one address are revoked together.
func TestConnectionDeleteImpactAndInvitationRevocation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		acme, globex := mustOrg(t, s, "acme"), mustOrg(t, s, "globex")
		mkConn := func(name string) store.Connection {
			x := store.Connection{OrgID: acme.ID, Type: "oidc", Name: name, Enabled: true}
			if err := s.CreateConnection(ctx, &x); err != nil {
				t.Fatal(err)
			}
			return x
		}
		sso, other := mkConn("SSO"), mkConn("Other")
		mkUser := func(email, hash string) store.User {
			u := store.User{OrgID: acme.ID, Email: email, Name: email, Role: store.RoleMember, PasswordHash: hash}
			if err := s.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		pw := mkUser("pw@acme.example", "$argon2id$x")             // password, unlinked
		fed := mkUser("fed@acme.example", "")                      // linked through SSO only
		both := mkUser("both@acme.example", "")                    // linked through SSO and Other
		linkedPw := mkUser("linkedpw@acme.example", "$argon2id$x") // password, linked through SSO
		for _, l := range []struct {
			conn store.Connection
			u    store.User
		}{{sso, fed}, {sso, both}, {other, both}, {sso, linkedPw}} {
			if err := s.LinkIdentity(ctx, &store.Identity{ConnectionID: l.conn.ID, Subject: l.u.Email, UserID: l.u.ID, OrgID: acme.ID}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.UnlinkedPasswordUsers(ctx, acme.ID); err != nil || n != 1 {
			t.Errorf("unlinked password users: %d %v, want 1", n, err)
		}
		if ok, _ := s.UserLinked(ctx, acme.ID, pw.ID); ok {
			t.Error("an unlinked account counts as linked")
		}
		if ok, _ := s.UserLinked(ctx, globex.ID, fed.ID); ok {
			t.Error("UserLinked crosses organizations")
		}
		imp, err := s.ConnectionImpact(ctx, acme.ID, sso.ID)
		if err != nil || imp.Linked != 3 || imp.Stranded != 1 {
			t.Errorf("impact of SSO: %+v %v, want 3 linked, 1 stranded", imp, err)
		}
		if imp, _ := s.ConnectionImpact(ctx, globex.ID, sso.ID); imp.Linked != 0 {
			t.Error("impact counted across organizations")
		}
		if err := s.DeleteConnection(ctx, globex.ID, sso.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting another organization's connection: %v", err)
		}
		if err := s.DeleteConnection(ctx, acme.ID, sso.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.IdentityBySubject(ctx, acme.ID, sso.ID, fed.Email); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a link outlived its connection: %v", err)
		}
		if _, err := s.User(ctx, acme.ID, fed.ID); err != nil {
			t.Errorf("the account went with the connection: %v", err)
		}
		if ok, _ := s.UserLinked(ctx, acme.ID, both.ID); !ok {
			t.Error("the link through the other connection went too")
		}

		now := time.Now()
		for range 2 {
			inv := store.Invitation{OrgID: acme.ID, Email: "new@acme.example", Role: store.RoleMember, TokenHash: store.NewID(),
				ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateInvitation(ctx, &inv); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.RevokePendingInvitations(ctx, globex.ID, "new@acme.example", now); err != nil || n != 0 {
			t.Errorf("revoking across organizations: %d %v", n, err)
		}
		if n, err := s.RevokePendingInvitations(ctx, acme.ID, "new@acme.example", now); err != nil || n != 2 {
			t.Errorf("revoked %d %v, want 2", n, err)
		}
		if n, _ := s.RevokePendingInvitations(ctx, acme.ID, "new@acme.example", now); n != 0 {
			t.Errorf("revoked again: %d", n)
		}
	})
}

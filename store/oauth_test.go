package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestClientsAreScopedToTheirOrganization: every org-owned client method
// answers ErrNotFound (or nothing) for another organization's client.
func TestClientsAreScopedToTheirOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		a, b := mustOrg(t, s, "a"), mustOrg(t, s, "b")
		c := store.Client{OrgID: a.ID, ClientID: "cid-a", Name: "A app", Type: store.ClientWeb,
			RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"authorization_code"},
			TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256", Enabled: true,
			Secrets: []store.ClientSecret{{Hash: "h1", Hint: "…abcd"}}}
		if err := s.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
		dup := c
		dup.ID, dup.OrgID = "", b.ID
		if err := s.CreateClient(ctx, &dup); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("duplicate client_id: %v", err)
		}
		cases := map[string]func() error{
			"Client":           func() error { _, err := s.Client(ctx, b.ID, c.ID); return err },
			"ClientByClientID": func() error { _, err := s.ClientByClientID(ctx, b.ID, c.ClientID); return err },
			"UpdateClient": func() error {
				_, _, err := s.UpdateClient(ctx, b.ID, c.ID, func(*store.Client) error { return nil })
				return err
			},
			"ReplaceClientSecrets": func() error { _, err := s.ReplaceClientSecrets(ctx, b.ID, c.ID, nil); return err },
			"DeleteClient":         func() error { return s.DeleteClient(ctx, b.ID, c.ID) },
		}
		for name, f := range cases {
			if err := f(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s across organizations: %v", name, err)
			}
		}
		if list, err := s.Clients(ctx, b.ID); err != nil || len(list) != 0 {
			t.Errorf("Clients(b) = %v %v", list, err)
		}
		if n, _ := s.CountClients(ctx, b.ID); n != 0 {
			t.Errorf("CountClients(b) = %d", n)
		}
		got, err := s.ClientByClientID(ctx, a.ID, c.ClientID)
		if err != nil || len(got.Secrets) != 1 || got.Secrets[0].Hash != "h1" || got.RedirectURIs[0] != "https://a.example/cb" {
			t.Fatalf("own client: %v %+v", err, got)
		}
		// The update keeps identity fields whatever the updater does.
		_, after, err := s.UpdateClient(ctx, a.ID, c.ID, func(x *store.Client) error {
			x.OrgID, x.ClientID, x.Name = b.ID, "stolen", "Renamed"
			return nil
		})
		if err != nil || after.OrgID != a.ID || after.ClientID != "cid-a" || after.Name != "Renamed" {
			t.Fatalf("update: %v %+v", err, after)
		}
		if err := s.DeleteClient(ctx, a.ID, c.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRegistrationTokensAreScopedToTheirOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		a, b := mustOrg(t, s, "a"), mustOrg(t, s, "b")
		tok := store.RegistrationToken{OrgID: a.ID, TokenHash: "th", MaxUses: 1}
		if err := s.CreateRegistrationToken(ctx, &tok); err != nil {
			t.Fatal(err)
		}
		if err := s.CountRegistrationTokenUse(ctx, b.ID, tok.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("use across organizations: %v", err)
		}
		if err := s.RevokeRegistrationToken(ctx, b.ID, tok.ID, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke across organizations: %v", err)
		}
		if list, _ := s.RegistrationTokens(ctx, b.ID); len(list) != 0 {
			t.Errorf("list across organizations: %v", list)
		}
		if err := s.CountRegistrationTokenUse(ctx, a.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.CountRegistrationTokenUse(ctx, a.ID, tok.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a single-use token was used twice: %v", err)
		}
	})
}

func TestRefreshFamiliesRotateAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		a := mustOrg(t, s, "a")
		now := time.Now().UTC().Truncate(time.Millisecond)
		f := store.RefreshFamily{ClientID: "c", OrgID: a.ID, UserID: "u", Scopes: []string{"openid"}, CreatedAt: now,
			ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateRefreshFamily(ctx, &f, store.RefreshToken{Hash: "r1", CreatedAt: now, AccessJTI: "j1",
			AccessExpiresAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		next := store.RefreshToken{Hash: "r2", FamilyID: f.ID, CreatedAt: now, AccessJTI: "j2", AccessExpiresAt: now.Add(time.Minute)}
		if err := s.RotateRefreshToken(ctx, "r1", next); err != nil {
			t.Fatal(err)
		}
		next.Hash = "r3"
		if err := s.RotateRefreshToken(ctx, "r1", next); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second rotation of the same token: %v", err)
		}
		if _, _, err := s.RefreshToken(ctx, "r3"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("a failed rotation left a token behind")
		}
		if err := s.RevokeOrgRefreshFamilies(ctx, a.ID, "partnership ended", now); err != nil {
			t.Fatal(err)
		}
		_, fam, err := s.RefreshToken(ctx, "r2")
		if err != nil || fam.RevokedAt.IsZero() || fam.RevokedReason != "partnership ended" {
			t.Fatalf("family after revoke: %v %+v", err, fam)
		}
		for _, jti := range []string{"j1", "j2"} {
			if ok, _ := s.JTIRevoked(ctx, jti); !ok {
				t.Errorf("access token %s of a revoked family is not revoked", jti)
			}
		}
		if n, err := s.PurgeExpiredOAuth(ctx, now.Add(2*time.Hour)); err != nil || n < 3 {
			t.Errorf("purge removed %d: %v", n, err)
		}
	})
}

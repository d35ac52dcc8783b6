package store_test

import (
	"context"
	"errors"
	"testing"

	"portico/store"
	"portico/store/storetest"
)

func TestSharedClientsReachOnlyTheOrganizationsTheyAreSharedWith(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		gold := store.Plan{Slug: "gold", Name: "Gold"}
		if err := s.CreatePlan(ctx, &gold); err != nil {
			t.Fatal(err)
		}
		platform, acme, globex := mustOrg(t, s, "platform"), mustOrg(t, s, "acme"), mustOrg(t, s, "globex")
		mk := func(org store.Organization, id string) {
			c := store.Client{OrgID: org.ID, ClientID: id, Name: id, Type: store.ClientWeb, Enabled: true,
				TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
			if err := s.CreateClient(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		mk(platform, "status-page")
		mk(platform, "gold-analytics")
		mk(acme, "acme-wiki")

		if err := s.ShareClient(ctx, platform.ID, "status-page", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.ShareClient(ctx, platform.ID, "gold-analytics", gold.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.ShareClient(ctx, globex.ID, "acme-wiki", ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("sharing another organization's app: %v", err)
		}
		names := func(orgID, planID string) []string {
			cs, err := s.SharedClients(ctx, orgID, planID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.ClientID)
			}
			return out
		}
		if got := names(acme.ID, gold.ID); len(got) != 2 {
			t.Fatalf("acme on gold sees %v", got)
		}
		if got := names(globex.ID, ""); len(got) != 1 || got[0] != "status-page" {
			t.Fatalf("globex without a plan sees %v", got)
		}
		if got := names(platform.ID, ""); len(got) != 0 {
			t.Fatalf("the owner sees its own apps as shared: %v", got)
		}
		if _, err := s.SharedClient(ctx, globex.ID, "", "gold-analytics"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a gold-only app reached an organization without the plan: %v", err)
		}
		if err := s.UnshareClient(ctx, platform.ID, "status-page", ""); err != nil {
			t.Fatal(err)
		}
		if got := names(globex.ID, ""); len(got) != 0 {
			t.Fatalf("after unsharing globex sees %v", got)
		}
	})
}

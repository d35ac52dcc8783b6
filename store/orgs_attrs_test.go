package store_test

import (
	"context"
	"testing"

	"portico/store"
	"portico/store/storetest"
)

// TestOrganizationAttributes: attributes are stored with the organization,
// changed by UpdateOrganization without touching the "before" copy, and
// read back as an empty map when there are none, on both engines.
func TestOrganizationAttributes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		o := store.Organization{Slug: "acme", Name: "Acme", Attributes: map[string]string{"regions": "eu,us"}}
		if err := s.CreateOrganization(ctx, &o); err != nil {
			t.Fatal(err)
		}
		got, err := s.OrganizationBySlug(ctx, "acme")
		if err != nil || got.Attributes["regions"] != "eu,us" {
			t.Fatalf("created: %v %v", got.Attributes, err)
		}
		before, after, err := s.UpdateOrganization(ctx, o.ID, func(x *store.Organization) error {
			x.Attributes["tier"] = "gold"
			delete(x.Attributes, "regions")
			return nil
		})
		if err != nil || before.Attributes["regions"] != "eu,us" || before.Attributes["tier"] != "" || after.Attributes["tier"] != "gold" {
			t.Fatalf("update: %v %v %v", before.Attributes, after.Attributes, err)
		}
		list, err := s.Organizations(ctx)
		if err != nil || len(list) != 1 || list[0].Attributes["tier"] != "gold" || list[0].Attributes["regions"] != "" {
			t.Fatalf("list: %+v %v", list, err)
		}
		plain := store.Organization{Slug: "plain", Name: "Plain"}
		if err := s.CreateOrganization(ctx, &plain); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Organization(ctx, plain.ID); got.Attributes == nil || len(got.Attributes) != 0 {
			t.Fatalf("no attributes: %#v", got.Attributes)
		}
	})
}

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"portico/store"
)

func TestAPIsAreScopedToTheirOwner(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	acme, globex := mustOrg(t, s, "acme"), mustOrg(t, s, "globex")
	platform := &store.API{Identifier: "https://api.example.com/", Name: "Platform",
		Scopes: []store.APIScope{{Name: "payments:read"}}, TokenTTL: 5 * time.Minute, PublishMetadata: true}
	if err := s.CreateAPI(ctx, platform); err != nil {
		t.Fatal(err)
	}
	own := &store.API{OrgID: acme.ID, Identifier: "https://acme.example/api", Name: "Acme",
		Scopes: []store.APIScope{{Name: "acme:read", Description: "read"}}, RequireSenderConstrained: true}
	if err := s.CreateAPI(ctx, own); err != nil {
		t.Fatal(err)
	}
	dup := &store.API{Identifier: "https://other.example/", Name: "Dup", Scopes: []store.APIScope{{Name: "acme:read"}}}
	if err := s.CreateAPI(ctx, dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("taken scope name: %v", err)
	}
	if _, err := s.API(ctx, globex.ID, own.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another org's API: %v", err)
	}
	if err := s.DeleteAPI(ctx, globex.ID, own.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete another org's API: %v", err)
	}
	if _, _, err := s.UpdateAPI(ctx, globex.ID, own.ID, func(*store.API) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update another org's API: %v", err)
	}
	got, err := s.APIByIdentifier(ctx, "https://acme.example/api")
	if err != nil || got.ID != own.ID || !got.RequireSenderConstrained || len(got.Scopes) != 1 || got.Scopes[0].Description != "read" {
		t.Fatalf("by identifier: %+v %v", got, err)
	}
	_, after, err := s.UpdateAPI(ctx, acme.ID, own.ID, func(a *store.API) error {
		a.Scopes = []store.APIScope{{Name: "acme:write"}}
		a.AllowedOrgs = []string{globex.ID}
		return nil
	})
	if err != nil || after.ScopeNames()[0] != "acme:write" {
		t.Fatalf("update: %+v %v", after, err)
	}
	scopes, _ := s.Scopes(ctx)
	var names []string
	for _, sc := range scopes {
		names = append(names, sc.Name+"@"+sc.APIID)
	}
	if len(scopes) != 2 {
		t.Fatalf("scopes after update: %v", names)
	}
	if list, _ := s.OrgAPIs(ctx, acme.ID); len(list) != 1 {
		t.Fatalf("org APIs: %d", len(list))
	}
	if err := s.DeleteAPI(ctx, "", own.ID); err != nil {
		t.Fatal(err)
	}
	if scopes, _ := s.Scopes(ctx); len(scopes) != 1 {
		t.Fatalf("the API's scopes must go with it: %d left", len(scopes))
	}
}

func TestAPIUsableBy(t *testing.T) {
	cases := []struct {
		name      string
		api       store.API
		org, plan string
		want      bool
	}{
		{"platform API open to all", store.API{}, "o1", "p1", true},
		{"org API, owner", store.API{OrgID: "o1"}, "o1", "", true},
		{"org API, other org", store.API{OrgID: "o1"}, "o2", "p1", false},
		{"org API shared with an org", store.API{OrgID: "o1", AllowedOrgs: []string{"o2"}}, "o2", "", true},
		{"platform API for a plan", store.API{AllowedPlans: []string{"gold"}}, "o2", "gold", true},
		{"platform API, other plan", store.API{AllowedPlans: []string{"gold"}}, "o2", "free", false},
		{"platform API, no plan", store.API{AllowedPlans: []string{"gold"}}, "o2", "", false},
	}
	for _, c := range cases {
		if got := c.api.UsableBy(c.org, c.plan); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}

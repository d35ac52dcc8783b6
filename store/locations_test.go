package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

func TestRememberedLocationsKeepTheFiveMostRecentlyUsed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		org := mustOrg(t, s, "acme")
		u := store.User{OrgID: org.ID, Email: "a@acme.example", Name: "A", Role: store.RoleMember}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		net := func(i int) netip.Prefix { return netip.MustParsePrefix(fmt.Sprintf("198.51.%d.0/24", i)) }
		for i := 1; i <= 5; i++ {
			if err := s.RememberLocation(ctx, u.ID, net(i), "DE", t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		// Using network 1 again makes network 2 the least recently used.
		if err := s.TouchLocation(ctx, u.ID, net(1), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RememberLocation(ctx, u.ID, net(6), "FR", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Locations(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != store.MaxLocations {
			t.Fatalf("%d locations, want %d", len(got), store.MaxLocations)
		}
		for _, l := range got {
			if l.Network == net(2) {
				t.Fatal("the least recently used network was kept")
			}
		}
		if got[0].Network != net(6) || got[1].Network != net(1) {
			t.Fatalf("order %v", got)
		}
		if err := s.ForgetLocation(ctx, u.ID, net(6)); err != nil {
			t.Fatal(err)
		}
		if err := s.ForgetLocation(ctx, u.ID, net(6)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("forgetting twice: %v", err)
		}
	})
}

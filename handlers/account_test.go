package handlers_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/handlers/handlerstest"
	"portico/store"
)

func TestAccountPageListsAndPrunesLocationsAndSessions(t *testing.T) {
	ctx := context.Background()
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	ann := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	bob := h.User(t, org, "bob@acme.example", store.RoleMember, pw)
	office := netip.MustParsePrefix("203.0.113.0/24")
	if err := h.Store.RememberLocation(ctx, ann.ID, office, "DE", time.Now()); err != nil {
		t.Fatal(err)
	}

	laptop, phone, bobs := h.Client(t), h.Client(t), h.Client(t)
	laptop.Login("ann@acme.example", pw)
	laptopSessions, _ := h.Store.UserSessions(ctx, ann.ID, time.Now())
	phone.Login("ann@acme.example", pw)
	bobs.Login("bob@acme.example", pw)
	// The phone is in use, so its session is cached (and must still end).
	if r := phone.Get("/account"); r.StatusCode != http.StatusOK {
		t.Fatalf("the phone is not signed in: %d", r.StatusCode)
	}

	r := laptop.Get("/account")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "203.0.113.0/24") || !strings.Contains(r.Body, "IP2Location") ||
		!strings.Contains(r.Body, "No second factor yet") {
		t.Fatalf("%d\n%s", r.StatusCode, r.Body)
	}

	// Ann cannot end Bob's session by guessing its ID.
	bobSessions, _ := h.Store.UserSessions(ctx, bob.ID, time.Now())
	laptop.Post("/account/sessions/"+bobSessions[0].ID+"/end", nil)
	if got, _ := h.Store.UserSessions(ctx, bob.ID, time.Now()); len(got) != 1 {
		t.Fatal("one user ended another user's session")
	}

	// Ann signs her phone out from the laptop.
	annSessions, _ := h.Store.UserSessions(ctx, ann.ID, time.Now())
	if len(annSessions) != 2 {
		t.Fatalf("%d sessions", len(annSessions))
	}
	for _, s := range annSessions {
		if s.ID != laptopSessions[0].ID {
			laptop.Post("/account/sessions/"+s.ID+"/end", nil)
		}
	}
	if r := phone.Get("/account"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the phone is still signed in: %d", r.StatusCode)
	}

	if r := laptop.Post("/account/locations/forget", url.Values{"network": {"203.0.113.0/24"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("forget: %d", r.StatusCode)
	}
	if locs, _ := h.Store.Locations(ctx, ann.ID); len(locs) != 0 {
		t.Fatalf("location not forgotten: %v", locs)
	}
	if r := laptop.Post("/account/locations/forget", url.Values{"network": {"not a network"}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad network: %d", r.StatusCode)
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"portico/handlers/handlerstest"
	"portico/store"
)

// appChangeBound is how long, at most, a launch may still open an app
// after a change to it: the bound on seeing a CLI change.
const appChangeBound = 20 * time.Millisecond

// opens reports whether launching clientID from ip sends c into the app.
func opens(t *testing.T, lp *launchPortal, c *handlerstest.Client, clientID, ip string) bool {
	t.Helper()
	r := from(t, c, http.MethodGet, lp.URL+"/launch/"+url.PathEscape(clientID), ip, nil)
	switch r.StatusCode {
	case http.StatusSeeOther:
		loc, _ := url.Parse(r.Header.Get("Location"))
		return loc != nil && loc.Query().Get("iss") != ""
	case http.StatusNotFound:
		return false
	}
	t.Fatalf("launch %s: %d %s", clientID, r.StatusCode, r.Header.Get("Location"))
	return false
}

// TestAppChangesStopLaunchesWithin20ms: the launch serves the app from a
// cache, yet an app that is disabled, loses its launch URL, is deleted or
// is no longer shared stops launching within 20 ms of the change, made
// here through the store as the CLI or another replica would make it.
func TestAppChangesStopLaunchesWithin20ms(t *testing.T) {
	cases := []struct {
		name   string
		shared bool
		change func(ctx context.Context, st *store.Store, c store.Client) error
	}{
		{"disabled", false, func(ctx context.Context, st *store.Store, c store.Client) error {
			_, _, err := st.UpdateClient(ctx, c.OrgID, c.ID, func(c *store.Client) error { c.Enabled = false; return nil })
			return err
		}},
		{"launch URL removed", false, func(ctx context.Context, st *store.Store, c store.Client) error {
			_, _, err := st.UpdateClient(ctx, c.OrgID, c.ID, func(c *store.Client) error { c.LaunchURL = ""; return nil })
			return err
		}},
		{"deleted", false, func(ctx context.Context, st *store.Store, c store.Client) error {
			return st.DeleteClient(ctx, c.OrgID, c.ID)
		}},
		{"shared app disabled", true, func(ctx context.Context, st *store.Store, c store.Client) error {
			_, _, err := st.UpdateClient(ctx, c.OrgID, c.ID, func(c *store.Client) error { c.Enabled = false; return nil })
			return err
		}},
		{"unshared", true, func(ctx context.Context, st *store.Store, c store.Client) error {
			return st.UnshareClient(ctx, c.OrgID, c.ClientID, "")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lp := newLaunchPortal(t, "127.0.0.1/32")
			ctx := context.Background()
			owner := lp.org
			if tc.shared {
				owner = lp.Org(t, "platform")
			}
			app := store.Client{OrgID: owner.ID, ClientID: "notes", Name: "Release notes", Type: store.ClientWeb,
				RedirectURIs: []string{"https://notes.example/cb"}, LaunchURL: "https://notes.example/", Enabled: true,
				TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
			if err := lp.Store.CreateClient(ctx, &app); err != nil {
				t.Fatal(err)
			}
			if tc.shared {
				if err := lp.Store.ShareClient(ctx, owner.ID, app.ClientID, ""); err != nil {
					t.Fatal(err)
				}
			}
			dev := lp.person(t, "dana@acme.example", "developers")
			for range 3 { // the first fills the cache, the others are served from it
				if !opens(t, lp, dev, "notes", "198.51.100.7") {
					t.Fatal("the app does not launch before the change")
				}
			}
			if err := tc.change(ctx, lp.Store, app); err != nil {
				t.Fatal(err)
			}
			time.Sleep(appChangeBound)
			if opens(t, lp, dev, "notes", "198.51.100.7") {
				t.Fatalf("the app still launches %v after the change (%s)", appChangeBound, tc.name)
			}
		})
	}
}

// TestNewlySharedOrEnabledAppLaunchesAtOnce: what is not launchable is not
// cached, so sharing or enabling an app needs no wait.
func TestNewlySharedOrEnabledAppLaunchesAtOnce(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	ctx := context.Background()
	platform := lp.Org(t, "platform")
	app := store.Client{OrgID: platform.ID, ClientID: "status", Name: "Status page", Type: store.ClientWeb,
		RedirectURIs: []string{"https://status.example/cb"}, LaunchURL: "https://status.example/",
		TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := lp.Store.CreateClient(ctx, &app); err != nil {
		t.Fatal(err)
	}
	dev := lp.person(t, "dana@acme.example", "developers")
	if opens(t, lp, dev, "status", "198.51.100.7") {
		t.Fatal("an unshared app launches")
	}
	if err := lp.Store.ShareClient(ctx, platform.ID, "status", ""); err != nil {
		t.Fatal(err)
	}
	if opens(t, lp, dev, "status", "198.51.100.7") {
		t.Fatal("a disabled shared app launches")
	}
	if _, _, err := lp.Store.UpdateClient(ctx, platform.ID, app.ID, func(c *store.Client) error { c.Enabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !opens(t, lp, dev, "status", "198.51.100.7") {
		t.Fatal("an app just shared and enabled does not launch at once")
	}
}

// TestLocationTouchesAreCoalescedAndEvictionStillFollowsUse: a launch from
// a remembered network writes its use at most once per five minutes, and
// the least recently used network is still the one a sixth replaces, and
// the sixth is remembered.
func TestLocationTouchesAreCoalescedAndEvictionStillFollowsUse(t *testing.T) {
	lp := newLaunchPortal(t, "127.0.0.1/32")
	ctx := context.Background()
	secrets := map[*handlerstest.Client]string{}
	dev := lp.person(t, "dana@acme.example", "developers")
	users, _ := lp.Store.UsersByEmail(ctx, "dana@acme.example")
	userID := users[0].ID
	ip := func(i int) string { return netip.AddrFrom4([4]byte{198, 51, byte(i), 7}).String() }
	network := func(i int) netip.Prefix { return netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, byte(i), 0}), 24) }
	lastUsed := func(i int) time.Time {
		t.Helper()
		locs, err := lp.Store.Locations(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range locs {
			if l.Network == network(i) {
				return l.LastUsedAt
			}
		}
		t.Fatalf("network %d is not remembered: %v", i, locs)
		return time.Time{}
	}
	for i := 1; i <= 5; i++ { // remembered at step-up, network 1 first
		if r, challenged := lp.launch(t, dev, ip(i), secrets); !challenged || !lp.landed(r) {
			t.Fatalf("network %d: challenged=%v %d", i, challenged, r.StatusCode)
		}
	}

	// Network 1 used again: written once, then not for five minutes.
	if r, challenged := lp.launch(t, dev, ip(1), secrets); challenged || !lp.landed(r) {
		t.Fatalf("remembered network 1: challenged=%v %d", challenged, r.StatusCode)
	}
	touched := lp.clock.Now()
	if got := lastUsed(1); !got.Equal(touched) {
		t.Fatalf("network 1's use was not written: %v, want %v", got, touched)
	}
	if _, challenged := lp.launch(t, dev, ip(1), secrets); challenged {
		t.Fatal("remembered network 1 challenged")
	}
	if got := lastUsed(1); !got.Equal(touched) {
		t.Fatalf("a second use within five minutes was written: %v, want %v", got, touched)
	}
	// Network 2 used after it: now the most recent, network 3 the least.
	if _, challenged := lp.launch(t, dev, ip(2), secrets); challenged {
		t.Fatal("remembered network 2 challenged")
	}
	if got := lastUsed(2); !got.Equal(lp.clock.Now()) {
		t.Fatalf("network 2's use was not written: %v", got)
	}

	// A sixth network replaces the least recently used, network 3, and is
	// remembered.
	if r, challenged := lp.launch(t, dev, ip(6), secrets); !challenged || !lp.landed(r) {
		t.Fatalf("new network 6: challenged=%v %d", challenged, r.StatusCode)
	}
	locs, _ := lp.Store.Locations(ctx, userID)
	got := map[netip.Prefix]bool{}
	for _, l := range locs {
		got[l.Network] = true
	}
	if len(locs) != 5 || got[network(3)] || !got[network(1)] || !got[network(2)] || !got[network(6)] {
		t.Fatalf("after the sixth network: %v", locs)
	}
	if _, challenged := lp.launch(t, dev, ip(6), secrets); challenged {
		t.Fatal("the network remembered at step-up was challenged")
	}
	if _, challenged := lp.launch(t, dev, ip(3), secrets); !challenged {
		t.Fatal("the least recently used network was kept")
	}

	// Five minutes on, a use of network 1 is written again.
	lp.clock.Advance(5 * time.Minute)
	if _, challenged := lp.launch(t, dev, ip(1), secrets); challenged {
		t.Fatal("remembered network 1 challenged")
	}
	if got := lastUsed(1); !got.Equal(lp.clock.Now()) {
		t.Fatalf("network 1's use five minutes later was not written: %v, want %v", got, lp.clock.Now())
	}
}

package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/policyeditor"
	"portico/store"
)

// BenchmarkDashboard is the signed-in dashboard as `portico bench paths`
// measures it (a platform admin in the developers group, at a remembered
// location, with 20 apps under IBM's policy), served in-process without the
// network, so a profile or -benchmem shows the portal's own cost per page.
func BenchmarkDashboard(b *testing.B) {
	h := handlerstest.New(b, func(c *handlers.Config) {
		c.Policies = policyeditor.NewEngine(c.Store, nil)
		c.Locator = policyeditor.IPLocLocator{}
	})
	ctx := context.Background()
	org := h.Org(b, "acme", "acme.example")
	u := h.User(b, org, "root@acme.example", store.RoleAdmin, pw)
	if _, _, err := h.Store.UpdateUser(ctx, org.ID, u.ID, func(u *store.User) error {
		u.PlatformAdmin, u.LocalGroups = true, []string{"developers"}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	remote := "192.0.2.1:1234" // httptest.NewRequest's
	if err := h.Store.RememberLocation(ctx, u.ID, policyeditor.LocationOf(netip.MustParseAddrPort(remote).Addr()), "", time.Now()); err != nil {
		b.Fatal(err)
	}
	svc := &policyeditor.Service{Store: h.Store}
	saved, err := svc.Import(ctx, store.Actor{Label: "bench"}, []byte(ibmPolicy))
	if err != nil {
		b.Fatal(err)
	}
	for i := range 20 {
		cl := store.Client{OrgID: org.ID, ClientID: fmt.Sprintf("app%02d", i+1), Name: fmt.Sprintf("Bench app %02d", i+1),
			Type: store.ClientWeb, RedirectURIs: []string{"https://app.example/cb"}, LaunchURL: fmt.Sprintf("https://app%02d.example/launch", i+1),
			Enabled: true, TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
		if err := h.Store.CreateClient(ctx, &cl); err != nil {
			b.Fatal(err)
		}
		if err := svc.Attach(ctx, store.Actor{Label: "bench"}, saved.Policy.ID, policyeditor.Target{ClientID: cl.ClientID}); err != nil {
			b.Fatal(err)
		}
	}
	browser := h.Client(b)
	browser.Login("root@acme.example", pw)
	base, _ := url.Parse(h.URL)
	cookies := browser.HTTP.Jar.Cookies(base)
	handler := h.Server.Config.Handler
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec
	}
	if r := get(); r.Code != http.StatusOK || strings.Count(r.Body.String(), `href="/launch/`) != 20 || !strings.Contains(r.Body.String(), "platform-ops") {
		b.Fatalf("dashboard: %d\n%s", r.Code, r.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := get(); r.Code != http.StatusOK {
			b.Fatalf("dashboard: %d", r.Code)
		}
	}
}

package handlers_test

import (
	"context"
	"testing"

	"portico/store"
)

// TestAppPageShowsProtocolProfileToPlatformAdmins: the FAPI 2.0, PAR and
// DPoP requirements are on the app page for platform admins only.
func TestAppPageShowsProtocolProfileToPlatformAdmins(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := store.Client{OrgID: w.staff.ID, ClientID: "bank", Name: "Bank", Type: store.ClientWeb, Enabled: true,
		TokenEndpointAuthMethod: "private_key_jwt", FAPI2: true, RequireDPoP: true}
	if err := w.h.Store.CreateClient(ctx, &c); err != nil {
		t.Fatal(err)
	}
	d := doc(t, w.as(t, platformAdmin).Get("/apps/bank").Body)
	if d.Find("#app-profile #profile-fapi2").Length() != 1 || d.Find("#profile-dpop").Length() != 1 || d.Find("#profile-par").Length() != 1 {
		t.Fatalf("platform admin sees: %q", d.Find("#app-profile").Text())
	}
	plain := store.Client{OrgID: w.staff.ID, ClientID: "wiki", Name: "Wiki", Type: store.ClientWeb, Enabled: true,
		TokenEndpointAuthMethod: "client_secret_basic"}
	if err := w.h.Store.CreateClient(ctx, &plain); err != nil {
		t.Fatal(err)
	}
	if d := doc(t, w.as(t, platformAdmin).Get("/apps/wiki").Body); d.Find("#profile-fapi2-off").Length() != 1 || d.Find("#profile-dpop-off").Length() != 1 {
		t.Fatalf("plain app: %q", d.Find("#app-profile").Text())
	}
	// An org admin sees the page of their own FAPI app, without the section.
	own := store.Client{OrgID: w.acme.ID, ClientID: "acme-bank", Name: "Acme Bank", Type: store.ClientWeb, Enabled: true,
		TokenEndpointAuthMethod: "private_key_jwt", FAPI2: true}
	if err := w.h.Store.CreateClient(ctx, &own); err != nil {
		t.Fatal(err)
	}
	d = doc(t, w.as(t, orgAdmin).Get("/apps/acme-bank").Body)
	if d.Find("#app-title").Text() != "Acme Bank" || d.Find("#app-profile").Length() != 0 {
		t.Fatalf("org admin: title %q, profile section %d", d.Find("#app-title").Text(), d.Find("#app-profile").Length())
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/store"
)

// A platform admin works on a partner organization from its page: the
// hub lists it, and the members, groups, connections and app pages named
// with ?org= work on that organization.
func TestPlatformAdminWorksOnAPartnerFromItsPage(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	appID, _ := w.serviceApp(t)
	pa := w.as(t, platformAdmin)

	r := pa.Get("/admin/orgs/acme")
	for _, want := range []string{"mia@acme.example", `href="/org/members?org=acme#invite-form"`, `href="/connections?org=acme"`,
		`href="/apps/` + appID + `?org=acme"`, `href="/decisions?org=acme"`, `href="/audit?org=acme"`, "Inventory sync"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the organization's page lacks %q", want)
		}
	}

	r = pa.Get("/org/members?org=acme")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "mia@acme.example") {
		t.Fatalf("members of acme: %d, lists acme's members: %v", r.StatusCode, strings.Contains(r.Body, "mia@acme.example"))
	}
	if !strings.Contains(r.Body, `action="/org/invitations?org=acme"`) {
		t.Error("the invitation form does not stay on acme")
	}
	if r := pa.Post("/org/invitations?org=acme", url.Values{"email": {"new@acme.example"}, "role": {"member"}}); !strings.Contains(r.Header.Get("Location"), "org=acme") {
		t.Errorf("the invitation's reveal leaves acme: Location %q", r.Header.Get("Location"))
	} else if r := inviteShown(t, pa, r); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "new@acme.example") {
		t.Fatalf("invite into acme: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	invs, _, err := w.h.Store.InvitationPage(ctx, w.acme.ID, store.Page{})
	if err != nil || len(invs) != 1 || invs[0].Email != "new@acme.example" {
		t.Fatalf("acme's invitations: %+v %v", invs, err)
	}
	if invs, _, _ := w.h.Store.InvitationPage(ctx, w.staff.ID, store.Page{}); len(invs) != 0 {
		t.Error("the invitation went to the admin's own organization")
	}
	r = pa.Post("/org/invitations?org=acme", url.Values{"email": {"someone@globex.example"}, "role": {"member"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "globex") {
		t.Errorf("inviting another organization's address: %d, names globex: %v", r.StatusCode, strings.Contains(r.Body, "globex"))
	}

	if r := pa.Get("/apps/" + appID); r.StatusCode != http.StatusNotFound {
		t.Errorf("acme's app without ?org: %d, want 404 (it is not the admin's organization's)", r.StatusCode)
	}
	if r := pa.Get("/apps/" + appID + "?org=acme"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Inventory sync") {
		t.Errorf("acme's app page for the platform admin: %d", r.StatusCode)
	}
	if r := pa.Get("/connections?org=acme"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "acme") {
		t.Errorf("acme's connections: %d", r.StatusCode)
	}

	r = pa.Post("/org/groups?org=acme", url.Values{"name": {"contractors"}})
	if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "org=acme") {
		t.Fatalf("create a group in acme: %d, Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	gs, err := w.h.Store.Groups(ctx, w.acme.ID)
	if err != nil || len(gs) != 1 || gs[0].Name != "contractors" {
		t.Errorf("acme's groups: %+v %v", gs, err)
	}
	if r := pa.Get("/org/members?org=nosuch"); r.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown organization: %d, want 404", r.StatusCode)
	}
}

// ?org= never widens what a partner's people may touch: naming another
// organization answers 404 on every scoped page and changes nothing.
func TestOrgParameterDoesNotLetPartnersCrossOrganizations(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin, dev := w.as(t, orgAdmin), w.as(t, developer)
	for _, path := range []string{"/org/members?org=globex", "/org/groups?org=globex", "/connections?org=globex", "/org/security?org=globex"} {
		if r := admin.Get(path); r.StatusCode != http.StatusNotFound {
			t.Errorf("acme's admin GET %s: %d, want 404", path, r.StatusCode)
		}
	}
	if r := dev.Get("/apps?org=globex"); r.StatusCode != http.StatusNotFound {
		t.Errorf("acme's developer GET /apps?org=globex: %d, want 404", r.StatusCode)
	}
	if r := admin.Post("/org/invitations?org=globex", url.Values{"email": {"x@globex.example"}, "role": {"member"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("acme's admin inviting into globex: %d, want 404", r.StatusCode)
	}
	if r := admin.Post("/org/groups?org=globex", url.Values{"name": {"intruders"}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("acme's admin creating a group in globex: %d, want 404", r.StatusCode)
	}
	if invs, _, _ := w.h.Store.InvitationPage(ctx, w.globex.ID, store.Page{}); len(invs) != 0 {
		t.Error("an invitation was created in globex")
	}
	if gs, _ := w.h.Store.Groups(ctx, w.globex.ID); len(gs) != 0 {
		t.Error("a group was created in globex")
	}
	if r := admin.Get("/org/members?org=acme"); r.StatusCode != http.StatusOK {
		t.Errorf("acme's admin naming acme: %d", r.StatusCode)
	}
	if r := admin.Get("/admin/orgs/globex"); r.StatusCode != http.StatusForbidden {
		t.Errorf("acme's admin on globex's hub: %d, want 403", r.StatusCode)
	}
}

// A platform admin shares a partner's app with every organization and with
// a plan from the app's page, and withdraws the shares; the app appears on
// the other organization's dashboard meanwhile.
func TestPlatformAdminSharesAnAppFromItsPage(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	appID, _ := w.serviceApp(t)
	pa := w.as(t, platformAdmin)
	base := "/apps/" + appID
	r := pa.Get(base + "?org=acme")
	if !strings.Contains(r.Body, `id="share-form"`) || !strings.Contains(r.Body, `value="plan:gold"`) {
		t.Fatal("the app page offers no sharing to the platform admin")
	}
	if r := w.as(t, orgAdmin).Get(base); strings.Contains(r.Body, `id="share-form"`) {
		t.Error("a partner admin is offered sharing")
	}
	for _, target := range []string{"all", "plan:gold"} {
		r := pa.Post(base+"/share?org=acme", url.Values{"target": {target}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != base+"?done=shared&org=acme" {
			t.Fatalf("share with %s: %d %q", target, r.StatusCode, r.Header.Get("Location"))
		}
	}
	shares, err := w.h.Store.ClientShares(ctx, w.acme.ID, appID)
	if err != nil || len(shares) != 2 || shares[0] != "" || shares[1] != w.gold.ID {
		t.Fatalf("shares: %v %v", shares, err)
	}
	if r := pa.Get(base + "?org=acme"); !strings.Contains(r.Body, "Shared with every organization") {
		t.Error("the page does not list the share")
	}
	if r := pa.Post(base+"/share?org=acme", url.Values{"target": {"plan:nosuch"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown plan: %d, want 422", r.StatusCode)
	}
	for _, target := range []string{"all", "plan:gold"} {
		if r := pa.Post(base+"/unshare?org=acme", url.Values{"target": {target}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("unshare %s: %d", target, r.StatusCode)
		}
	}
	if shares, _ := w.h.Store.ClientShares(ctx, w.acme.ID, appID); len(shares) != 0 {
		t.Errorf("shares left: %v", shares)
	}
}

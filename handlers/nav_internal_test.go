package handlers

import (
	"testing"

	"portico/views"
)

// TestNavGroups: every page of the navigation lands in the group of what
// the viewer is there as; groups without pages are left out.
func TestNavGroups(t *testing.T) {
	want := map[string]string{
		"/": "You", "/account": "You", "/account/mfa": "You", "/account/passkeys": "You",
		"/apps": "Developer", "/apis": "Developer",
		"/org/members": "Organization", "/org/groups": "Organization", "/org/security": "Organization",
		"/connections": "Organization", "/issuers": "Organization", "/decisions": "Organization",
		"/audit": "Organization", "/api-tokens": "Organization",
		"/admin/orgs": "Platform", "/admin/plans": "Platform", "/admin/policies": "Platform", "/admin/webhooks": "Platform",
	}
	var items []views.NavItem
	for href := range want {
		items = append(items, views.NavItem{Label: href, Href: href, Active: href == "/audit"})
	}
	got := map[string]string{}
	for _, g := range groupNav(items) {
		for _, it := range g.Items {
			got[it.Href] = g.Label
		}
		if g.Active != (g.Label == "Organization") {
			t.Errorf("group %s active = %v", g.Label, g.Active)
		}
	}
	for href, g := range want {
		if got[href] != g {
			t.Errorf("%s is under %q, want %q", href, got[href], g)
		}
	}
	if gs := groupNav([]views.NavItem{{Href: "/"}, {Href: "/account"}}); len(gs) != 1 || gs[0].Label != "You" {
		t.Errorf("a member's navigation: %+v", gs)
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portico/store"
)

// TestOrgAdminManagesGroups walks the groups pages: a group is created,
// a member added and removed, bad names are refused with nothing stored,
// names are escaped, a sign-in group is shown read-only, a form without
// its CSRF field changes nothing, and the policy editor offers the groups.
func TestOrgAdminManagesGroups(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.as(t, orgAdmin)
	if r := admin.Post("/org/groups", url.Values{"name": {"<b>contractors</b>"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	for _, bad := range []string{"", "developers, contractors"} {
		if r := admin.Post("/org/groups", url.Values{"name": {bad}}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("name %q: %d", bad, r.StatusCode)
		}
	}
	if r := admin.PostRaw("/org/groups", url.Values{"name": {"no-csrf"}}); r.StatusCode == http.StatusSeeOther {
		t.Error("a POST without the CSRF field created a group")
	}
	gs, _ := w.h.Store.Groups(ctx, w.acme.ID)
	if len(gs) != 1 {
		t.Fatalf("groups stored: %+v", gs)
	}
	g := gs[0]
	r := admin.Get("/org/groups")
	if strings.Contains(r.Body, "<b>contractors</b>") || !strings.Contains(r.Body, "&lt;b&gt;contractors&lt;/b&gt;") {
		t.Fatal("the group name is not escaped")
	}
	mia := w.users[member]
	if r := admin.Post("/org/groups/"+g.ID+"/add-member", url.Values{"email": {mia.Email}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if r := admin.Post("/org/groups/"+g.ID+"/add-member", url.Values{"email": {"gus@globex.example"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("adding another organization's user: %d", r.StatusCode)
	}
	u, _ := w.h.Store.User(ctx, w.acme.ID, mia.ID)
	if !slices.Equal(u.Groups(), []string{"<b>contractors</b>"}) {
		t.Fatalf("member's groups: %v", u.Groups())
	}
	mp, _ := goquery.NewDocumentFromReader(strings.NewReader(admin.Get("/org/members").Body))
	if got := strings.TrimSpace(mp.Find(`tr[data-email="` + mia.Email + `"] .member-groups`).Text()); got != "<b>contractors</b>" {
		t.Errorf("members page shows groups %q", got)
	}
	if r := admin.Post("/org/groups/"+g.ID+"/remove-member", url.Values{"email": {mia.Email}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.StatusCode)
	}
	if u, _ := w.h.Store.User(ctx, w.acme.ID, mia.ID); len(u.Groups()) != 0 {
		t.Fatalf("after removal: %v", u.Groups())
	}

	// A group from the sign-in claim is shown read-only.
	if err := w.h.Store.SetUserIdPGroups(ctx, w.acme.ID, mia.ID, []string{"engineering"}); err != nil {
		t.Fatal(err)
	}
	idp, _ := w.h.Store.GroupByName(ctx, w.acme.ID, store.GroupIdP, "engineering")
	page := admin.Get("/org/groups/" + idp.ID)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(page.Body))
	if doc.Find("#add-member-form").Length() != 0 || !strings.Contains(page.Body, "from sign-in (read-only)") {
		t.Error("a sign-in group offers editing")
	}
	if r := admin.Post("/org/groups/"+idp.ID+"/delete", nil); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("deleting a sign-in group: %d", r.StatusCode)
	}

	// The policy editor offers every organization's groups.
	ed := w.as(t, platformAdmin).Get("/admin/policies/new")
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(ed.Body))
	var offered []string
	doc.Find("datalist#org-groups option").Each(func(_ int, s *goquery.Selection) { offered = append(offered, s.AttrOr("value", "")) })
	if !slices.Contains(offered, "engineering") || !slices.Contains(offered, "<b>contractors</b>") {
		t.Errorf("editor offers %q", offered)
	}

	if r := admin.Post("/org/groups/"+g.ID+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if _, err := w.h.Store.Group(ctx, w.acme.ID, g.ID); err == nil {
		t.Fatal("the group survived")
	}
}

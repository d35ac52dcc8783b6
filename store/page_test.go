package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// walk pages through a list forwards to the end, then backwards from the
// last page to the first, and returns the keys seen each way.
func walk[T any](t *testing.T, list func(store.Page) ([]T, store.PageInfo, error), key func(T) string, limit int, q string) (fwd, back []string) {
	t.Helper()
	p := store.Page{Limit: limit, Q: q}
	var pages [][]string
	for range 100 {
		rows, info, err := list(p)
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, r := range rows {
			ks = append(ks, key(r))
		}
		pages = append(pages, ks)
		fwd = append(fwd, ks...)
		if (p.After != "") != (info.Prev != "") {
			t.Fatalf("page %d: prev link %q after %q", len(pages), info.Prev, p.After)
		}
		if info.Next == "" {
			// Back from the last page.
			prev := info.Prev
			for prev != "" {
				rows, info, err := list(store.Page{Limit: limit, Q: q, Before: prev})
				if err != nil {
					t.Fatal(err)
				}
				var ks []string
				for _, r := range rows {
					ks = append(ks, key(r))
				}
				back = append(ks, back...)
				if info.Next == "" {
					t.Fatal("a previous page has no next link")
				}
				prev = info.Prev
			}
			if len(pages) > 0 {
				back = append(back, pages[len(pages)-1]...)
			}
			return fwd, back
		}
		p.After, p.Before = info.Next, ""
	}
	t.Fatal("more than 100 pages")
	return
}

func TestOrganizationPages(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	var want []string
	for i := range 23 {
		// Mixed case and equal names: the keyset must order by (lower(name), id).
		name := fmt.Sprintf("Org %02d", i/2)
		if i%3 == 0 {
			name = fmt.Sprintf("org %02d", i/2)
		}
		o := store.Organization{Slug: fmt.Sprintf("s%02d", i), Name: name, Domains: []string{fmt.Sprintf("d%d.example", i)}}
		if err := s.CreateOrganization(ctx, &o); err != nil {
			t.Fatal(err)
		}
		want = append(want, o.Slug)
	}
	list := func(p store.Page) ([]store.Organization, store.PageInfo, error) { return s.OrganizationPage(ctx, p) }
	fwd, back := walk(t, list, func(o store.Organization) string { return o.Slug }, 5, "")
	if len(fwd) != 23 || !slices.Equal(fwd, back) {
		t.Fatalf("forward %v\nback %v", fwd, back)
	}
	slices.Sort(fwd)
	if !slices.Equal(fwd, want) {
		t.Fatalf("pages missed or repeated organizations: %v", fwd)
	}
	// Domains come with the page.
	orgs, _, err := s.OrganizationPage(ctx, store.Page{Limit: 3})
	if err != nil || len(orgs) != 3 || len(orgs[0].Domains) != 1 {
		t.Fatalf("domains: %v %+v", err, orgs)
	}
	// Search by name prefix, any case, and by slug prefix.
	got, _ := walk(t, list, func(o store.Organization) string { return o.Slug }, 2, "ORG 0")
	if len(got) != 20 {
		t.Fatalf("name search: %v", got)
	}
	// An exact slug comes first on the first page.
	got, _ = walk(t, list, func(o store.Organization) string { return o.Slug }, 2, "S15")
	if len(got) != 1 || got[0] != "s15" {
		t.Fatalf("slug search: %v", got)
	}
	byName, _, _ := s.OrganizationPage(ctx, store.Page{Q: "org 1", Limit: 3})
	withSlug, _, _ := s.OrganizationPage(ctx, store.Page{Q: "s05", Limit: 3})
	if len(byName) != 3 || len(withSlug) != 1 || withSlug[0].Slug != "s05" {
		t.Fatalf("name %v / slug %v", byName, withSlug)
	}
	if _, _, err := s.OrganizationPage(ctx, store.Page{After: "not-a-cursor!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestDecisionPages(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	ds := sampleDecisions(300, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	if _, err := s.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	f := store.DecisionFilter{Action: "deny"}
	var want []string
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Action == "deny" {
			want = append(want, ds[i].ID)
		}
	}
	list := func(p store.Page) ([]store.Decision, store.PageInfo, error) { return s.DecisionPage(ctx, f, p) }
	fwd, back := walk(t, list, func(d store.Decision) string { return d.ID }, 7, "")
	if !slices.Equal(fwd, want) || !slices.Equal(back, want) {
		t.Fatalf("deny decisions, newest first:\n got %v\nback %v\nwant %v", fwd, back, want)
	}
	// Each filter narrows on its own.
	u := ds[10]
	for name, f := range map[string]store.DecisionFilter{"user": {User: u.UserID}, "subject": {User: u.Subject},
		"client": {ClientID: u.ClientID}, "org": {OrgID: u.OrgID}, "point": {Point: u.Point}} {
		got, err := s.Decisions(ctx, f)
		if err != nil || len(got) == 0 {
			t.Fatalf("%s: %v %d", name, err, len(got))
		}
		for _, d := range got {
			if (f.User != "" && d.UserID != u.UserID) || (f.ClientID != "" && d.ClientID != u.ClientID) ||
				(f.OrgID != "" && d.OrgID != u.OrgID) || (f.Point != "" && d.Point != u.Point) {
				t.Fatalf("%s filter let through %+v", name, d)
			}
		}
	}
	if got, err := s.Decisions(ctx, store.DecisionFilter{User: "nobody"}); err != nil || len(got) != 0 {
		t.Fatalf("unknown user: %v %d", err, len(got))
	}
}

func TestMemberAndClientPagesStayInTheirOrg(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	a, b := mustOrg(t, s, "a"), mustOrg(t, s, "b")
	for i := range 12 {
		for _, o := range []store.Organization{a, b} {
			u := store.User{OrgID: o.ID, Email: fmt.Sprintf("p%02d@%s.example", i, o.Slug), Name: fmt.Sprintf("P %02d", i), Role: store.RoleMember}
			if err := s.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			c := store.Client{OrgID: o.ID, ClientID: fmt.Sprintf("%s-app-%02d", o.Slug, i), Name: fmt.Sprintf("App %02d", i),
				Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}
			if err := s.CreateClient(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
	}
	members := func(p store.Page) ([]store.User, store.PageInfo, error) { return s.MemberPage(ctx, a.ID, p) }
	fwd, back := walk(t, members, func(u store.User) string { return u.Email }, 5, "")
	if len(fwd) != 12 || !slices.Equal(fwd, back) || fwd[0] != "p00@a.example" {
		t.Fatalf("members: %v / %v", fwd, back)
	}
	got, _ := walk(t, members, func(u store.User) string { return u.Email }, 5, "P1")
	if len(got) != 2 {
		t.Fatalf("member search: %v", got)
	}
	clients := func(p store.Page) ([]store.Client, store.PageInfo, error) { return s.ClientPage(ctx, b.ID, p, true) }
	cs, _ := walk(t, clients, func(c store.Client) string { return c.ClientID }, 4, "")
	if len(cs) != 12 || cs[0] != "b-app-00" {
		t.Fatalf("clients: %v", cs)
	}
}

// TestAppRefPageOnBothEngines: the picker's list splits machines from the
// others on either engine (on PostgreSQL the kind test is boolean, which a
// 0/1 argument does not compare with).
func TestAppRefPageOnBothEngines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		acme := mustOrg(t, s, "acme")
		for _, c := range []store.Client{
			{OrgID: acme.ID, ClientID: "wiki", Name: "Wiki", Type: store.ClientWeb, TokenEndpointAuthMethod: "client_secret_basic"},
			{OrgID: acme.ID, ClientID: "batch", Name: "Batch", Type: store.ClientService, TokenEndpointAuthMethod: "client_secret_basic"},
		} {
			if err := s.CreateClient(ctx, &c); err != nil {
				t.Fatal(err)
			}
		}
		for _, want := range []struct {
			machines bool
			id       string
		}{{true, "batch"}, {false, "wiki"}} {
			apps, _, err := s.AppRefPage(ctx, want.machines, store.Page{})
			if err != nil || len(apps) != 1 || apps[0].ClientID != want.id {
				t.Fatalf("machines=%v: %v %+v", want.machines, err, apps)
			}
		}
	})
}

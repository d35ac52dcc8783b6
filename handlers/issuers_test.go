package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/authserver"
	"portico/handlers"
	"portico/store"
)

func withIssuers(c *handlers.Config) {
	iss, err := authserver.NewIssuers(authserver.IssuersConfig{Issuer: c.Issuer, Store: c.Store, AllowInsecure: true,
		UpstreamAllow: c.UpstreamAllow})
	if err != nil {
		panic(err)
	}
	c.Issuers = iss
}

// TestIssuersPage: an org admin adds and removes their organization's
// trusted issuers (CSRF-protected, audited, bad input stored nowhere); a
// developer may not; another organization's admin sees none of them and
// cannot remove them (404); a platform admin manages any organization's.
func TestIssuersPage(t *testing.T) {
	w := newConnWorld(t, withIssuers)
	ctx := context.Background()
	stored := func(org store.Organization) []store.TrustedIssuer {
		t.Helper()
		l, err := w.Store.TrustedIssuers(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	admin := w.as(t, "admin@acme.example")
	if r := admin.Get("/issuers"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Trusted token issuers of") {
		t.Fatalf("page: %d", r.StatusCode)
	}
	form := url.Values{"issuer": {"https://idp.partner.example"}, "audiences": {"portico-partner\n"},
		"groups_claim": {"groups"}, "max_age": {"10m"}, "attributes": {"department=dept"}, "algorithms": {"RS256", "ES256"}}
	if r := admin.PostRaw("/issuers", form); r.StatusCode != http.StatusForbidden || len(stored(w.acme)) != 0 {
		t.Fatalf("without CSRF: %d, %d stored", r.StatusCode, len(stored(w.acme)))
	}
	for _, bad := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"issuer": {"https://idp.bad.example"}, "algorithms": {"HS256"}}, "never accepted"},
		{url.Values{"issuer": {"https://idp.bad.example"}, "algorithms": {"RS256"}, "max_age": {"soon"}}, "is not a duration"},
		{url.Values{"issuer": {"ftp://idp.bad.example"}, "algorithms": {"RS256"}}, "must be an https URL"},
	} {
		r := admin.Post("/issuers", bad.form)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, bad.want) || len(stored(w.acme)) != 0 {
			t.Fatalf("bad input %v: %d, %d stored", bad.form, r.StatusCode, len(stored(w.acme)))
		}
	}
	if r := admin.Post("/issuers", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.StatusCode, r.Body)
	}
	list := stored(w.acme)
	if len(list) != 1 || list[0].GroupsClaim != "groups" || list[0].AttributeClaims["department"] != "dept" ||
		list[0].Audiences[0] != "portico-partner" || len(list[0].Algorithms) != 2 {
		t.Fatalf("stored: %+v", list)
	}
	ti := list[0]
	if r := admin.Get("/issuers"); !strings.Contains(r.Body, "https://idp.partner.example") {
		t.Fatal("the list does not show the issuer")
	}
	evs, _ := w.Store.AuditEvents(ctx, store.AuditFilter{OrgID: w.acme.ID})
	if len(evs) == 0 || evs[0].Action != "issuer.create" || evs[0].Actor != "admin@acme.example" {
		t.Fatalf("audit: %+v", evs)
	}
	if r := admin.Post("/issuers/test", url.Values{"token": {"not.a.jwt"}}); r.StatusCode != http.StatusOK ||
		!strings.Contains(r.Body, "would refuse") {
		t.Fatalf("test: %d", r.StatusCode)
	}

	dev := w.as(t, "dev@acme.example")
	if r := dev.Get("/issuers"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("developer: %d", r.StatusCode)
	}
	if r := dev.Post("/issuers/"+ti.ID+"/delete", nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("developer delete: %d", r.StatusCode)
	}

	other := w.as(t, "admin@globex.example")
	if r := other.Get("/issuers"); strings.Contains(r.Body, "idp.partner.example") {
		t.Fatal("globex sees acme's issuer")
	}
	if r := other.Get("/issuers?org=acme"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("globex asking for acme: %d", r.StatusCode)
	}
	if r := other.Post("/issuers/"+ti.ID+"/delete", nil); r.StatusCode != http.StatusNotFound || len(stored(w.acme)) != 1 {
		t.Fatalf("globex deleting acme's issuer: %d", r.StatusCode)
	}

	root := w.as(t, "root@staff.example")
	if r := root.Get("/issuers?org=acme"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "idp.partner.example") {
		t.Fatalf("platform admin: %d", r.StatusCode)
	}
	if r := root.Post("/issuers/"+ti.ID+"/delete?org=acme", nil); r.StatusCode != http.StatusSeeOther || len(stored(w.acme)) != 0 {
		t.Fatalf("platform admin delete: %d", r.StatusCode)
	}
	evs, _ = w.Store.AuditEvents(ctx, store.AuditFilter{OrgID: w.acme.ID})
	if evs[0].Action != "issuer.delete" || evs[0].Actor != "root@staff.example" {
		t.Fatalf("audit: %+v", evs[0])
	}
}

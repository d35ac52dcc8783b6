package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAPIPages: an organization's admin registers an API on the
// organization's domain through the form (bad input is shown, nothing
// stored), the developers' app form then offers its scopes under the API's
// name, and the organization can refuse unregistered apps.
func TestAPIPages(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, orgAdmin)
	bad := admin.Post("/apis", url.Values{"identifier": {"https://api.elsewhere.example/"}, "name": {"X"},
		"scopes": {"x:read"}, "token_lifetime": {"soon"}})
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "must be a duration") {
		t.Fatalf("bad lifetime: %d", bad.StatusCode)
	}
	bad = admin.Post("/apis", url.Values{"identifier": {"https://api.elsewhere.example/"}, "name": {"X"}, "scopes": {"x:read"}})
	doc := htmlDoc(t, bad.Body)
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find("#err-identifier").Text(), "domains") {
		t.Fatalf("foreign identifier: %d %q", bad.StatusCode, doc.Find("#err-identifier").Text())
	}
	if list, _ := w.h.Store.APIs(context.Background()); len(list) != 0 {
		t.Fatalf("refused forms stored %d APIs", len(list))
	}
	r := admin.Post("/apis", url.Values{"identifier": {"https://api.acme.example/orders"}, "name": {"<b>Orders</b>"},
		"scopes": {"orders:api Read orders\n orders:admin"}, "token_lifetime": {"5m"}, "publish_metadata": {"on"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/apis?done=created" {
		t.Fatalf("register: %d", r.StatusCode)
	}
	r = admin.Get("/apis?done=created")
	if !strings.Contains(r.Body, "The API was registered.") {
		t.Fatal("no flash")
	}
	doc = htmlDoc(t, r.Body)
	if doc.Find("#apis tbody tr").Length() != 1 || strings.Contains(r.Body, "<b>Orders</b>") {
		t.Fatal("the list does not show the API once, escaped")
	}
	// Another organization's admin does not see it.
	if htmlDoc(t, w.as(t, otherOrgAdmin).Get("/apis").Body).Find("#apis tbody tr").Length() != 0 {
		t.Fatal("another organization sees acme's API")
	}
	// The app form groups the API's scopes under its name.
	form := htmlDoc(t, w.as(t, developer).Get("/apps/new?type=service").Body)
	group := form.Find(`p.scope-group[data-api="https://api.acme.example/orders"]`)
	if group.Length() != 1 || !strings.Contains(group.Text(), "<b>Orders</b>") {
		t.Fatalf("no scope group for the API: %q", group.Text())
	}
	// Unregistered apps: refused for acme.
	admin.Post("/apis/client-metadata", url.Values{})
	if ok, err := w.h.Store.OrgAllowsClientMetadata(context.Background(), w.acme.ID); err != nil || ok {
		t.Fatalf("setting not saved: %v %v", ok, err)
	}
}

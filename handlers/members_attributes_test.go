package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portico/store"
)

// The members page shows each member's attributes (what resource-level
// policies compare with), escaped.
func TestMembersPageShowsAttributes(t *testing.T) {
	w := newResetWorld(t)
	if _, _, err := w.Harness.Store.UpdateUser(t.Context(), w.acmeMem.OrgID, w.acmeMem.ID, func(u *store.User) error {
		u.Attributes = map[string]string{"assigned_customers": "c-1,c-2", "note": "<b>x</b>"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := w.as(t, "admin@acme.example").Get("/org/members")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("members page: %d", r.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Find(`tr[data-id="` + w.acmeMem.ID + `"] ul.attributes li`)
	if got.Length() != 2 || got.First().Text() != "assigned_customers=c-1,c-2" || got.Last().Text() != "note=<b>x</b>" {
		t.Fatalf("attributes shown: %q", got.Text())
	}
	if strings.Contains(r.Body, "<b>x</b>") {
		t.Fatal("an attribute value was not escaped")
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"portico/partners"
	"portico/store"
)

// TestAdminAPIOrgTokenStopsWithItsOrganization: an organization's API token
// stops working while the organization is suspended or outside its
// partnership window, as its members' sessions and its apps' tokens do; a
// platform token keeps working, and reactivation brings the token back.
func TestAdminAPIOrgTokenStopsWithItsOrganization(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, _ := w.apiToken(t, w.globex, store.APIRoleAdmin)
	platTok, _ := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	if a := w.api(t, tok, http.MethodGet, "/orgs/globex/members", nil); a.Status != http.StatusOK {
		t.Fatalf("active: %d %s", a.Status, a.Raw)
	}
	svc := &partners.Service{Store: w.h.Store, Now: w.clock.Now}
	if _, err := svc.Suspend(ctx, store.Actor{Label: "test"}, "globex"); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, tok, http.MethodGet, "/orgs/globex/members", nil), http.StatusUnauthorized)
	a := w.api(t, tok, http.MethodPost, "/orgs/globex/invitations", map[string]any{"email": "late@globex.example"})
	wantProblem(t, a, http.StatusUnauthorized)
	if invs, _, err := w.h.Store.InvitationPage(ctx, w.globex.ID, store.Page{Limit: 50}); err != nil {
		t.Fatal(err)
	} else {
		for _, i := range invs {
			if i.Email == "late@globex.example" {
				t.Fatal("a suspended organization's token invited someone")
			}
		}
	}
	// The platform may still work on the suspended organization.
	if a := w.api(t, platTok, http.MethodGet, "/orgs/globex/members", nil); a.Status != http.StatusOK {
		t.Fatalf("platform token on a suspended organization: %d %s", a.Status, a.Raw)
	}
	if _, err := svc.Reactivate(ctx, store.Actor{Label: "test"}, "globex"); err != nil {
		t.Fatal(err)
	}
	if a := w.api(t, tok, http.MethodGet, "/orgs/globex/members", nil); a.Status != http.StatusOK {
		t.Fatalf("reactivated: %d %s", a.Status, a.Raw)
	}
	// An ended partnership stops it too.
	end := w.clock.Now().Add(-time.Hour)
	if _, err := svc.UpdateOrg(ctx, store.Actor{Label: "test"}, "globex", partners.OrgInput{ValidUntil: &end}); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, tok, http.MethodGet, "/orgs/globex", nil), http.StatusUnauthorized)
}

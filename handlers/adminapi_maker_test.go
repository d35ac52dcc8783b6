package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"portico/partners"
	"portico/store"
)

// TestAdminAPITokenStopsWithItsMaker: a token an org admin made stops
// working (401) when that admin loses the role, and so does a token made
// with it through the API; back in the role, both work again; revoking the
// first stops the second.
func TestAdminAPITokenStopsWithItsMaker(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ada := w.users[orgAdmin]
	svc := &partners.Service{Store: w.h.Store, Now: w.clock.Now}
	nt, err := svc.CreateAPIToken(ctx, partners.Manager{Actor: store.Actor{UserID: ada.ID, Label: ada.Email}, OrgID: w.acme.ID,
		Role: store.RoleAdmin}, partners.APITokenInput{Name: "ada's sync", OrgID: w.acme.ID, Role: store.APIRoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	parent := nt.Secret
	a := w.api(t, parent, http.MethodPost, "/tokens", map[string]any{"name": "child", "role": "read"})
	if a.Status != http.StatusCreated {
		t.Fatalf("child token: %d %s", a.Status, a.Raw)
	}
	child, _ := a.Body["token"].(string)
	both := func(status int) {
		t.Helper()
		for _, tok := range []string{parent, child} {
			if a := w.api(t, tok, http.MethodGet, "/orgs/acme", nil); a.Status != status {
				t.Fatalf("status %d, want %d: %s", a.Status, status, a.Raw)
			}
		}
	}
	both(http.StatusOK)
	setRole := func(r store.Role) {
		if _, _, err := w.h.Store.UpdateUser(ctx, w.acme.ID, ada.ID, func(u *store.User) error { u.Role = r; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	setRole(store.RoleMember)
	both(http.StatusUnauthorized)
	setRole(store.RoleAdmin)
	both(http.StatusOK)
	if _, err := svc.RevokeAPIToken(ctx, partners.CLIManager("test"), nt.Token.ID); err != nil {
		t.Fatal(err)
	}
	if a := w.api(t, child, http.MethodGet, "/orgs/acme", nil); a.Status != http.StatusUnauthorized {
		t.Fatalf("child of a revoked token: %d %s", a.Status, a.Raw)
	}
}

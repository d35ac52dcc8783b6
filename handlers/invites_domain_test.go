package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/handlers/handlerstest"
	"portico/store"
)

// TestInviteIntoAnotherOrganizationsDomainIsRefused: acme's admin cannot
// invite ceo@globex.example; the form says the domain belongs to another
// organization without naming it, and no invitation exists afterwards.
func TestInviteIntoAnotherOrganizationsDomainIsRefused(t *testing.T) {
	h := handlerstest.New(t)
	acme := h.Org(t, "acme", "acme.example")
	h.Org(t, "globex", "globex.example")
	h.User(t, acme, "ada@acme.example", store.RoleAdmin, oldPassword)
	admin := h.Client(t)
	admin.Login("ada@acme.example", oldPassword)

	r := admin.Post("/org/invitations", url.Values{"email": {"ceo@globex.example"}, "role": {"admin"}, "ttl": {"24h"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "belongs to another organization") {
		t.Fatalf("invite: %d %s", r.StatusCode, pageError(r.Body))
	}
	if strings.Contains(r.Body, "Globex") || strings.Contains(r.Body, "/invite/") {
		t.Error("the refusal names the owner or shows a link")
	}
	if invs, err := h.Store.Invitations(context.Background(), acme.ID); err != nil || len(invs) != 0 {
		t.Fatalf("invitations after the refusal: %+v %v", invs, err)
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"portico/store"
)

// TestAdminAPIAuditsWritesOnly: reads leave no api.call audit event (a
// polling script must not bury the changes); every call of a writing
// operation does, refused ones included.
func TestAdminAPIAuditsWritesOnly(t *testing.T) {
	w := newWorld(t)
	admin, tok := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	reader, rtok := w.apiToken(t, store.Organization{}, store.APIRoleRead)
	for range 5 {
		for _, path := range []string{"/orgs", "/orgs/acme", "/plans", "/tokens"} {
			if a := w.api(t, admin, http.MethodGet, path, nil); a.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, a.Status, a.Raw)
			}
		}
	}
	if a := w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": "initech", "name": "Initech"}); a.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.Status, a.Raw)
	}
	wantProblem(t, w.api(t, admin, http.MethodPost, "/orgs", map[string]any{"slug": "Bad Slug!", "name": "X"}), http.StatusUnprocessableEntity)
	wantProblem(t, w.api(t, reader, http.MethodPost, "/orgs", map[string]any{"slug": "x2", "name": "X"}), http.StatusForbidden)
	events, err := w.h.Store.AuditEvents(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string][]string{}
	for _, e := range events {
		if e.Action == "api.call" {
			calls[e.Actor] = append(calls[e.Actor], e.TargetID)
		}
	}
	if n := len(calls["api-token:"+tok.ID]); n != 2 {
		t.Errorf("admin token: %d api.call events, want 2 (the writes, not the 20 reads)", n)
	}
	if n := len(calls["api-token:"+rtok.ID]); n != 1 {
		t.Errorf("read token: %d api.call events, want 1 (its refused write)", n)
	}
	got, err := w.h.Store.APIToken(context.Background(), "", tok.ID)
	if err != nil || got.LastUsedAt.IsZero() {
		t.Errorf("last used not kept: %+v %v", got, err)
	}
}

package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/authserver"
	"portico/handlers/adminapi"
	"portico/store"
)

// TestAdminAPIPlatformGrantOnlyForPlatformClients: a platform-wide grant
// is refused for a partner organization's client when made through the
// API (422), and one that exists anyway (made before the rule) does not
// let that client's tokens in (403); the platform's own client is granted
// and served.
func TestAdminAPIPlatformGrantOnlyForPlatformClients(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.reg.CreateScope(ctx, authserver.Actor{Label: "test"}, adminapi.AdminScope, "the admin API"); err != nil {
		t.Fatal(err)
	}
	service := func(org store.Organization) (clientID, secret string) {
		cl, secret, err := w.reg.Register(ctx, org.ID, authserver.Actor{Label: "test"},
			authserver.RegisterInput{Name: org.Slug + " provisioning", Type: store.ClientService, Scopes: []string{adminapi.AdminScope}})
		if err != nil {
			t.Fatal(err)
		}
		return cl.ClientID, secret
	}
	token := func(id, secret string) string {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {adminapi.AdminScope}}
		req, _ := http.NewRequest(http.MethodPost, w.h.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		if out.AccessToken == "" {
			t.Fatalf("no access token: %d", resp.StatusCode)
		}
		return out.AccessToken
	}
	platformToken, _ := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)

	partnerID, partnerSecret := service(w.globex)
	a := w.api(t, platformToken, http.MethodPost, "/tokens", map[string]any{"name": "x", "role": "admin", "client_id": partnerID})
	wantProblem(t, a, http.StatusUnprocessableEntity)
	if !strings.Contains(a.Raw, "client_id") {
		t.Fatalf("the refusal does not name the field: %s", a.Raw)
	}
	// One that exists anyway gives nothing.
	legacy := store.APIToken{Name: "legacy", ClientID: partnerID, Role: store.APIRoleAdmin, CreatedBy: "test",
		ExpiresAt: w.clock.Now().Add(24 * 3600e9)}
	if err := w.h.Store.CreateAPIToken(ctx, &legacy); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.api(t, token(partnerID, partnerSecret), http.MethodGet, "/orgs/acme", nil), http.StatusForbidden)

	staffID, staffSecret := service(w.staff)
	if a := w.api(t, platformToken, http.MethodPost, "/tokens", map[string]any{"name": "ops", "role": "admin", "client_id": staffID}); a.Status != http.StatusCreated {
		t.Fatalf("platform grant to the platform's client: %d %s", a.Status, a.Raw)
	}
	if a := w.api(t, token(staffID, staffSecret), http.MethodGet, "/orgs/acme", nil); a.Status != http.StatusOK {
		t.Fatalf("the platform's client: %d %s", a.Status, a.Raw)
	}
}

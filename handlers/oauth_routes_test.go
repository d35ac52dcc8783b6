package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"portico/authserver"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
)

// TestDynamicClientManagementThroughThePortal is RFC 7591 and 7592 end to
// end through handlers.New, as a machine does it: no session, no CSRF
// token, a cross-site Origin. Registration, read, update (PUT) and delete
// (DELETE) at /register/{client_id} must reach the authorization server,
// not the portal's CSRF check.
func TestDynamicClientManagementThroughThePortal(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var srv *authserver.Server
	h := handlerstest.New(t, func(c *handlers.Config) {
		c.SignIn = handlers.SignInConfig{Sealer: sealer}
		srv, err = authserver.New(authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: sealer,
			AllowInsecure: true, CacheRevalidate: -1, Now: c.Now,
			LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) }})
		if err != nil {
			t.Fatal(err)
		}
		c.OAuth = srv
	})
	org := h.Org(t, "acme", "acme.example")
	_, initial, err := srv.Registrar().CreateRegistrationToken(context.Background(), org.ID, authserver.Actor{Label: "test"},
		authserver.RegistrationTokenInput{Description: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string, body any) (int, map[string]any) {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, h.URL+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Origin", "https://ci.example") // a machine, or a cross-site page: no portal cookies
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	meta := map[string]any{"client_name": "CI app", "redirect_uris": []string{"https://ci.example/cb"},
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"}}
	st, reg := call(http.MethodPost, "/register", initial, meta)
	if st != http.StatusCreated {
		t.Fatalf("register: %d %v", st, reg)
	}
	clientID, _ := reg["client_id"].(string)
	token, _ := reg["registration_access_token"].(string)
	if clientID == "" || token == "" {
		t.Fatalf("register: %v", reg)
	}
	path := "/register/" + clientID

	meta["client_id"] = clientID
	meta["client_name"] = "CI app, renamed"
	meta["redirect_uris"] = []string{"https://ci.example/callback"}
	st, got := call(http.MethodPut, path, token, meta)
	if st != http.StatusOK || got["client_name"] != "CI app, renamed" {
		t.Fatalf("PUT %s: %d %v", path, st, got)
	}
	c, err := h.Store.LookupClient(context.Background(), clientID)
	if err != nil || c.Name != "CI app, renamed" || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "https://ci.example/callback" {
		t.Fatalf("stored after PUT: %+v %v", c, err)
	}

	if st, got := call(http.MethodDelete, path, token, nil); st != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d %v", path, st, got)
	}
	if _, err := h.Store.LookupClient(context.Background(), clientID); err == nil {
		t.Fatal("the client survived DELETE")
	}
	// The portal's own forms keep their CSRF check.
	if r := h.Client(t).PostRaw("/logout/confirm", url.Values{"next": {"/"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("portal POST without CSRF token: %d", r.StatusCode)
	}
}

package main

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"portico/authserver"
	"portico/handlers"
	"portico/store"
)

// TestSignInWiringCarriesConsent: serve's adapters hand the sign-in flow
// the consent step, with the authorization server's errors translated to
// the ones the handlers test for.
func TestSignInWiringCarriesConsent(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "portico.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, _ := store.NewSealer(key)
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	oauth, err := authserver.New(authserver.Config{Issuer: issuer, Store: st, Sealer: sealer, AllowInsecure: true,
		CacheRevalidate: -1, LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) }})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = oauth
	ts.Start()
	defer ts.Close()
	org := store.Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	u := store.User{OrgID: org.ID, Email: "ann@acme.example", Name: "Ann", Role: store.RoleMember}
	if err := st.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	app, _, err := oauth.Registrar().Register(ctx, org.ID, authserver.Actor{Label: "test"}, authserver.RegisterInput{
		Name: "Notes", Type: store.ClientWeb, RedirectURIs: []string{"https://notes.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	pending := func() string {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(issuer + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {app.ClientID},
			"redirect_uri": {"https://notes.example/cb"}, "scope": {"openid email"}, "state": {"s"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query().Get("auth_request")
	}
	sc := signInConfig(sealer, oauth)
	if sc.Consent == nil {
		t.Fatal("serve wires no consent step")
	}
	in := handlers.CompletedSignIn{UserID: u.ID, AMR: []string{"pwd"}}

	id := pending()
	if _, err := sc.Completer.CompleteLogin(ctx, id, in); !errors.Is(err, handlers.ErrConsentRequired) {
		t.Fatalf("want handlers.ErrConsentRequired, got %v", err)
	}
	pr, err := sc.Consent.ConsentPrompt(ctx, id)
	if err != nil || pr.ClientName != "Notes" || len(pr.Scopes) != 2 || pr.Scopes[1].Description == "" {
		t.Fatalf("prompt: %+v %v", pr, err)
	}
	if err := sc.Consent.GrantConsent(ctx, id, u.ID); err != nil {
		t.Fatal(err)
	}
	if to, err := sc.Completer.CompleteLogin(ctx, id, in); err != nil || !strings.Contains(to, "code=") {
		t.Fatalf("after consent: %q %v", to, err)
	}
	if _, err := sc.Consent.ConsentPrompt(ctx, "no-such-request"); !errors.Is(err, handlers.ErrUnknownAuthRequest) {
		t.Fatalf("unknown request: %v", err)
	}
	if err := sc.Consent.GrantConsent(ctx, "no-such-request", u.ID); !errors.Is(err, handlers.ErrUnknownAuthRequest) {
		t.Fatalf("grant on an unknown request: %v", err)
	}
	to, err := sc.Consent.DenyConsent(ctx, pending())
	if err != nil || !strings.Contains(to, "error=access_denied") || !strings.Contains(to, "iss=") {
		t.Fatalf("deny: %q %v", to, err)
	}
}

package authserver_test

import (
	"errors"
	"testing"

	"portico/authserver"
	"portico/store"
)

func TestRegistrarValidation(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name  string
		in    authserver.RegisterInput
		field string
	}{
		{"no name", authserver.RegisterInput{Type: store.ClientService}, "name"},
		{"unknown type", authserver.RegisterInput{Name: "x", Type: "robot"}, "type"},
		{"web without redirect", authserver.RegisterInput{Name: "x", Type: store.ClientWeb}, "redirect_uris"},
		{"fragment", authserver.RegisterInput{Name: "x", Type: store.ClientWeb, RedirectURIs: []string{"https://a.example/cb#f"}}, "redirect_uris[0]"},
		{"wildcard", authserver.RegisterInput{Name: "x", Type: store.ClientWeb, RedirectURIs: []string{"https://*.a.example/cb"}}, "redirect_uris[0]"},
		{"http non-loopback", authserver.RegisterInput{Name: "x", Type: store.ClientWeb, RedirectURIs: []string{"http://a.example/cb"}}, "redirect_uris[0]"},
		{"custom scheme for web", authserver.RegisterInput{Name: "x", Type: store.ClientWeb, RedirectURIs: []string{"com.example.app:/cb"}}, "redirect_uris[0]"},
		{"service with redirect", authserver.RegisterInput{Name: "x", Type: store.ClientService, RedirectURIs: []string{"https://a.example/cb"}}, "redirect_uris"},
		{"spa with a secret method", authserver.RegisterInput{Name: "x", Type: store.ClientSPA, RedirectURIs: []string{redirectBase}, TokenEndpointAuthMethod: "client_secret_basic"}, "token_endpoint_auth_method"},
		{"spa with client_credentials", authserver.RegisterInput{Name: "x", Type: store.ClientSPA, RedirectURIs: []string{redirectBase}, GrantTypes: []string{"client_credentials"}}, "grant_types[0]"},
		{"unregistered scope", authserver.RegisterInput{Name: "x", Type: store.ClientService, Scopes: []string{"nope"}}, "scopes[0]"},
		{"scope outside the plan", authserver.RegisterInput{Name: "x", Type: store.ClientService, Scopes: []string{"orders:read", "admin:all"}}, "scopes[1]"},
		{"openid for a service", authserver.RegisterInput{Name: "x", Type: store.ClientService, Scopes: []string{"openid"}}, "scopes[0]"},
		{"private_key_jwt without keys", authserver.RegisterInput{Name: "x", Type: store.ClientService, TokenEndpointAuthMethod: "private_key_jwt"}, "jwks"},
		{"http jwks_uri", authserver.RegisterInput{Name: "x", Type: store.ClientService, JWKSURI: "http://keys.example/jwks"}, "jwks_uri"},
		{"javascript launch URL", authserver.RegisterInput{Name: "x", Type: store.ClientService, LaunchURL: "javascript:alert(1)"}, "launch_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := w.reg.Register(w.ctx, w.org.ID, cli, tc.in)
			var ve *authserver.ValidationError
			if !errors.As(err, &ve) || ve.For(tc.field) == "" {
				t.Fatalf("want an error on %s, got %v", tc.field, err)
			}
		})
	}
	if list, _ := w.st.Clients(w.ctx, w.org.ID); len(list) != 0 {
		t.Fatalf("invalid input stored %d clients", len(list))
	}
	if events, _ := w.st.AuditEvents(w.ctx, store.AuditFilter{OrgID: w.org.ID}); len(events) != 0 {
		t.Fatalf("invalid input audited: %v", events)
	}
	// Native apps may use loopback and private-use scheme redirects.
	if _, _, err := w.reg.Register(w.ctx, w.org.ID, cli, authserver.RegisterInput{Name: "cli", Type: store.ClientNative,
		RedirectURIs: []string{"http://127.0.0.1/cb", "com.example.app:/cb"}}); err != nil {
		t.Fatal(err)
	}
	// Another organization's client is not found through the Registrar.
	other := storeOrg(w, "other")
	c, _ := w.service("orders:read")
	if _, err := w.reg.SetEnabled(w.ctx, other.ID, c.ClientID, cli, false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org disable: %v", err)
	}
	if _, _, err := w.reg.RotateSecret(w.ctx, other.ID, c.ClientID, cli, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org rotate: %v", err)
	}
	if err := w.reg.Delete(w.ctx, other.ID, c.ClientID, cli); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org delete: %v", err)
	}
}

// TestRevokeRegistrationTokenAuditsAndStaysInItsOrganization: the
// revocation and its audit event land together; another organization's
// token, or a token already revoked, is not found and nothing is audited.
func TestRevokeRegistrationTokenAuditsAndStaysInItsOrganization(t *testing.T) {
	w := newWorld(t)
	tok, _, err := w.reg.CreateRegistrationToken(w.ctx, w.org.ID, cli, authserver.RegistrationTokenInput{Description: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	other := storeOrg(w, "other")
	if err := w.reg.RevokeRegistrationToken(w.ctx, other.ID, tok.ID, cli); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org revoke: %v", err)
	}
	if err := w.reg.RevokeRegistrationToken(w.ctx, w.org.ID, tok.ID, cli); err != nil {
		t.Fatal(err)
	}
	toks, _ := w.st.RegistrationTokens(w.ctx, w.org.ID)
	if len(toks) != 1 || toks[0].RevokedAt.IsZero() || toks[0].UsableAt(toks[0].RevokedAt) {
		t.Fatalf("token after revocation: %+v", toks)
	}
	if err := w.reg.RevokeRegistrationToken(w.ctx, w.org.ID, tok.ID, cli); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	events, _ := w.st.AuditEvents(w.ctx, store.AuditFilter{})
	revokes := 0
	for _, e := range events {
		if e.Action == "registration_token.revoke" {
			revokes++
			if e.OrgID != w.org.ID || e.TargetID != tok.ID {
				t.Errorf("audit event: %+v", e)
			}
		}
	}
	if revokes != 1 {
		t.Fatalf("%d revoke events, want 1", revokes)
	}
}

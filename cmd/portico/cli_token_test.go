package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"portico/partners"
)

// TestTokenCommands: a token is printed once and stored hashed; list shows
// it without the secret; revoke ends it; an organization that does not
// exist is refused.
func TestTokenCommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	out := tc.mustRun("token", "create", "--name", "CRM sync", "--org", "acme", "--role", "admin", "--ttl", "720h", "--json")
	var made tokenJSON
	if err := json.Unmarshal([]byte(out), &made); err != nil || !strings.HasPrefix(made.Token, partners.APITokenPrefix) ||
		made.Org != "acme" || made.Role != "admin" {
		t.Fatalf("%v %s", err, out)
	}
	st := tc.openTestStore()
	got, err := st.APITokenByHash(context.Background(), partners.HashAPIToken(made.Token))
	if err != nil || got.ID != made.ID || got.CreatedBy != cliActor {
		t.Fatalf("stored: %+v %v", got, err)
	}
	list := tc.mustRun("token", "list", "--json")
	if strings.Contains(list, made.Token) || !strings.Contains(list, made.ID) {
		t.Fatalf("list: %s", list)
	}
	if _, err := tc.run("token", "create", "--name", "x", "--org", "nope"); err == nil {
		t.Error("a token for an organization that does not exist")
	}
	if _, err := tc.run("token", "create", "--name", "x", "--role", "root"); err == nil {
		t.Error("a token with an unknown role")
	}
	tc.mustRun("token", "revoke", "--id", made.ID)
	if _, err := tc.run("token", "revoke", "--id", made.ID); err == nil {
		t.Error("revoked twice")
	}
	if got, _ := st.APITokenByHash(context.Background(), partners.HashAPIToken(made.Token)); got.RevokedAt.IsZero() {
		t.Error("not revoked")
	}
}

// TestTokenCreateRefusesPlatformGrantToAPartnersClient: `token create
// --client-id` without --org is a platform-wide grant, which a partner
// organization's client must not get; with --org it is scoped to that
// organization and made.
func TestTokenCreateRefusesPlatformGrantToAPartnersClient(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	var cl struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(tc.mustRun("client", "create", "--org", "acme", "--name", "Sync", "--type", "service", "--json")), &cl); err != nil || cl.ClientID == "" {
		t.Fatalf("client create: %v", err)
	}
	out, err := tc.run("token", "create", "--name", "x", "--role", "admin", "--client-id", cl.ClientID)
	if err == nil || !strings.Contains(err.Error()+out, "platform") {
		t.Fatalf("platform-wide grant to a partner's client: %v %s", err, out)
	}
	if list := tc.mustRun("token", "list", "--json"); strings.Contains(list, cl.ClientID) {
		t.Fatalf("a refused grant was stored: %s", list)
	}
	tc.mustRun("token", "create", "--name", "x", "--role", "admin", "--client-id", cl.ClientID, "--org", "acme")
}

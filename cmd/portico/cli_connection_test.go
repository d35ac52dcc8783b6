package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"portico/federation"
	"portico/store"
)

// openTestStore opens the CLI's database directly, for checks the CLI does
// not print.
func (tc *testCLI) openTestStore() *store.Store {
	tc.t.Helper()
	st, err := (&cli{now: time.Now}).openStore(context.Background(), tc.env["PORTICO_DB"])
	if err != nil {
		tc.t.Fatal(err)
	}
	tc.t.Cleanup(func() { st.Close() })
	return st
}

func auditActions(t *testing.T, st *store.Store) []string {
	t.Helper()
	evs, err := st.AuditEvents(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

func TestConnectionCommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.env["PORTICO_ISSUER"] = "https://portal.example.com"
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme", "--domain", "acme.example")

	out := tc.mustRun("connection", "create", "--org", "acme", "--type", "oidc", "--name", "Acme SSO",
		"--issuer", "https://idp.acme.example", "--client-id", "portico", "--client-secret", "upstream-s3cret",
		"--claim-groups", "roles", "--json")
	if strings.Contains(out, "upstream-s3cret") {
		t.Fatalf("the secret was printed:\n%s", out)
	}
	var oidcConn connectionJSON
	if err := json.Unmarshal([]byte(out), &oidcConn); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if oidcConn.ID == "" || oidcConn.RedirectURI != "https://portal.example.com/login/callback" || !oidcConn.HasSecret ||
		!oidcConn.Enabled || oidcConn.Org != "acme" || oidcConn.Settings["claim_groups"] != "roles" {
		t.Fatalf("%+v", oidcConn)
	}
	human := tc.mustRun("connection", "create", "--org", "acme", "--type", "saml", "--name", "Acme SAML",
		"--metadata-url", "https://idp.acme.example/saml/metadata")
	if !strings.Contains(human, "saml_metadata_url=https://portal.example.com/login/saml/metadata/") ||
		strings.Contains(human, "redirect_uri") {
		t.Fatalf("SAML connection output:\n%s", human)
	}

	// The secret is sealed with the same key file the server reads.
	st := tc.openTestStore()
	row, err := st.Connection(context.Background(), mustOrgID(t, st, "acme"), oidcConn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.Secret, []byte("upstream-s3cret")) {
		t.Fatal("the secret is stored in the clear")
	}
	var key []byte
	if k := tc.env["PORTICO_SECRET_KEY"]; k != "" { // PostgreSQL: no key file
		key, err = base64.StdEncoding.DecodeString(k)
	} else {
		key, err = loadOrCreateKeyFile(tc.env["PORTICO_DB"] + ".key")
	}
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := store.NewSealer(key)
	if plain, err := sealer.Open(row.Secret, federation.SecretPurpose(row.ID)); err != nil || string(plain) != "upstream-s3cret" {
		t.Fatalf("sealed secret opens to %q, %v", plain, err)
	}

	bad := []struct {
		name string
		args []string
		want []string
	}{
		{"missing settings", []string{"--type", "oidc", "--name", ""}, []string{"--name", "--issuer", "--client-id", "--secret"}},
		{"setting of another type", []string{"--type", "oidc", "--name", "X", "--tenant", "t"}, []string{"--tenant does not apply"}},
		{"unknown type", []string{"--type", "ldap", "--name", "X"}, []string{`"ldap"`}},
		{"unknown org", []string{"--org", "nope", "--type", "sandbox", "--name", "X"}, []string{`no organization "nope"`}},
		{"bad sandbox users", []string{"--type", "sandbox", "--name", "Sandbox", "--users", "not-an-email", "--secret", "pw"},
			[]string{"--users"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"connection", "create", "--org", "acme"}, tt.args...)
			_, err := tc.run(args...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %s: %v", w, err)
				}
			}
		})
	}

	out = tc.mustRun("connection", "update", "--id", oidcConn.ID, "--enabled=false", "--name", "Acme Okta", "--json")
	var upd connectionJSON
	if err := json.Unmarshal([]byte(out), &upd); err != nil {
		t.Fatal(err)
	}
	if upd.Enabled || upd.Name != "Acme Okta" || upd.Version != 2 || !upd.HasSecret || upd.Settings["issuer"] != "https://idp.acme.example" {
		t.Fatalf("after update: %+v", upd)
	}
	if _, err := tc.run("connection", "update", "--id", oidcConn.ID, "--issuer", "not a url"); err == nil ||
		!strings.Contains(err.Error(), "--issuer") {
		t.Fatalf("bad update: %v", err)
	}
	if _, err := tc.run("connection", "update", "--id", "nope", "--name", "X"); err == nil {
		t.Fatal("updating a missing connection succeeded")
	}

	out = tc.mustRun("connection", "list", "--org", "acme", "--json")
	var list []connectionJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.Join(auditActions(t, st), ",")
	if strings.Count(got, "connection.create") != 2 || strings.Count(got, "connection.update") != 1 {
		t.Fatalf("audit: %s", got)
	}
}

func mustOrgID(t *testing.T, st *store.Store, slug string) string {
	t.Helper()
	o, err := st.OrganizationBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

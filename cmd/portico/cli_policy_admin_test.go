package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"portico/store"
)

const ibmPolicy = `{"name":"Development portal access","description":"IBM's example","kind":"user_access",
  "rules":[{"name":"New location needs MFA","conditions":[{"type":"location","new":true}],"action":"challenge"},
           {"name":"Developers and contractors","conditions":[{"type":"group","any_of":["contractors","developers"]}],"action":"permit"}],
  "default":"deny"}`

// TestPolicyLifecycleCommands imports, attaches, lists and exports a policy,
// and lists decisions, all against one database file.
func TestPolicyLifecycleCommands(t *testing.T) {
	tc := newTestCLI(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "ibm.json")
	if err := os.WriteFile(file, []byte(ibmPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, tc.env["PORTICO_DB"])
	if err != nil {
		t.Fatal(err)
	}
	org := store.Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, &store.Client{OrgID: org.ID, ClientID: "dev-portal", Name: "Dev portal", Type: store.ClientWeb,
		TokenEndpointAuthMethod: "client_secret_basic"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var imported struct {
		Policy     store.Policy `json:"policy"`
		Version    int          `json:"version"`
		Created    bool         `json:"created"`
		AttachedTo string       `json:"attached_to"`
	}
	if err := json.Unmarshal([]byte(tc.mustRun("policy", "import", file, "--attach", "dev-portal", "--json")), &imported); err != nil {
		t.Fatal(err)
	}
	if !imported.Created || imported.Version != 1 || imported.AttachedTo != "dev-portal" {
		t.Fatalf("import: %+v", imported)
	}
	tc.mustRun("policy", "attach", "--policy", "Development portal access", "--portal")

	var list []policyJSON
	if err := json.Unmarshal([]byte(tc.mustRun("policy", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || len(list[0].Apps) != 1 || list[0].Apps[0] != "dev-portal" || len(list[0].Points) != 1 {
		t.Fatalf("list: %+v", list)
	}
	exported := tc.mustRun("policy", "export", "Development portal access")
	if !strings.Contains(exported, `"any_of": [`) || !strings.Contains(exported, `"default": "deny"`) {
		t.Fatalf("export:\n%s", exported)
	}
	// Exported documents import again, as a new version.
	if err := os.WriteFile(file, []byte(exported), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := tc.mustRun("policy", "import", file); !strings.Contains(out, "version 2") {
		t.Fatalf("re-import: %s", out)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"name":"x","kind":"user_access","rules":[{"conditions":[{"type":"ip","in":["10.0.0.0/33"]}],"action":"permit"}],"default":"deny"}`), 0o644)
	if _, err := tc.run("policy", "import", bad); err == nil || !strings.Contains(err.Error(), `rules[0].conditions[0].in[0]: "10.0.0.0/33" is not an IP range`) {
		t.Fatalf("bad import: %v", err)
	}
	if _, err := tc.run("policy", "attach", "--policy", "Development portal access", "--m2m"); err == nil {
		t.Fatal("a user-access policy was attached to machine to machine")
	}

	st, _ = store.Open(ctx, tc.env["PORTICO_DB"])
	logged := []store.Decision{{Point: "authorize", OrgID: org.ID, Action: "deny", Reason: "no"},
		{Point: "authorize", OrgID: "other", Action: "permit", Reason: "yes"}}
	if _, err := st.InsertDecisions(ctx, logged); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var ds []store.Decision
	if err := json.Unmarshal([]byte(tc.mustRun("decisions", "list", "--org", "acme", "--json")), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != logged[0].ID {
		t.Fatalf("decisions: %+v", ds)
	}
}

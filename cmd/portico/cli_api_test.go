package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAPICommands(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme", "--domain", "acme.example")
	tc.mustRun("org", "create", "--slug", "globex", "--name", "Globex")
	var a struct {
		ID, Identifier, Owner string
		TokenLifetime         string `json:"token_lifetime"`
		Scopes                []struct{ Name, Description string }
		AllowedOrgs           []string `json:"allowed_orgs"`
		Publish               bool     `json:"publish_metadata"`
	}
	out := tc.mustRun("api", "create", "--identifier", "https://inventory.example/api", "--name", "Inventory",
		"--scope", "inv:read=Read stock", "--scope", "inv:write", "--token-lifetime", "5m", "--publish-metadata",
		"--allow-org", "acme", "--json")
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.ID == "" || len(a.Scopes) != 2 ||
		a.Scopes[0].Description != "Read stock" || a.TokenLifetime != "5m0s" || !a.Publish ||
		len(a.AllowedOrgs) != 1 || a.AllowedOrgs[0] != "acme" {
		t.Fatalf("api create: %v %s", err, out)
	}
	// An organization's API must be on its own domain.
	if _, err := tc.run("api", "create", "--org", "acme", "--identifier", "https://inventory.other/", "--name", "X",
		"--scope", "x:y"); err == nil || !strings.Contains(err.Error(), "identifier") {
		t.Fatalf("foreign host accepted: %v", err)
	}
	tc.mustRun("api", "create", "--org", "acme", "--identifier", "https://api.acme.example/", "--name", "Acme",
		"--scope", "acme:read")
	var list []struct{ Owner string }
	if err := json.Unmarshal([]byte(tc.mustRun("api", "list", "--org", "acme", "--json")), &list); err != nil ||
		len(list) != 1 || list[0].Owner != "acme" {
		t.Fatalf("api list --org: %v %+v", err, list)
	}
	out = tc.mustRun("api", "update", "--identifier", "https://inventory.example/api", "--scope", "inv:read", "--json")
	if err := json.Unmarshal([]byte(out), &a); err != nil || len(a.Scopes) != 1 || a.TokenLifetime != "5m0s" {
		t.Fatalf("api update keeps what was not given: %v %s", err, out)
	}
	if !strings.Contains(tc.mustRun("api", "show", "--id", a.ID), "inventory.example") {
		t.Fatal("api show")
	}
	tc.mustRun("api", "delete", "--identifier", "https://inventory.example/api")
	if _, err := tc.run("api", "show", "--id", a.ID); err == nil {
		t.Fatal("deleted API still shown")
	}
}

func TestOrgClientMetadataCommand(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	if out := tc.mustRun("org", "client-metadata", "--slug", "acme", "deny"); !strings.Contains(out, "deny") {
		t.Fatal(out)
	}
	if _, err := tc.run("org", "client-metadata", "--slug", "acme", "maybe"); err == nil {
		t.Fatal("maybe accepted")
	}
	if !strings.Contains(tc.mustRun("audit", "list"), "org.client_metadata") {
		t.Fatal("no audit event")
	}
}

// TestPolicyAttachToAPI: `policy attach --api` attaches an api_request
// policy to a registered API (the whole API, or under --route); an
// identifier no API has is refused.
func TestPolicyAttachToAPI(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("api", "create", "--identifier", "https://inventory.example/api", "--name", "Inventory", "--scope", "inv:read")
	tc.mustRun("policy", "import", "../../policyeditor/testdata/api_customers.json")
	tc.mustRun("policy", "attach", "--policy", "Customers API", "--api", "https://inventory.example/api")
	tc.mustRun("policy", "attach", "--policy", "Customers API", "--api", "https://inventory.example/api", "--route", "/customers")
	out := tc.mustRun("policy", "list")
	if !strings.Contains(out, "API requests under / for https://inventory.example/api") ||
		!strings.Contains(out, "API requests under /customers for https://inventory.example/api") {
		t.Fatalf("policy list: %s", out)
	}
	if _, err := tc.run("policy", "attach", "--policy", "Customers API", "--api", "https://typo.example/api"); err == nil {
		t.Fatal("an unregistered API was accepted")
	}
	tc.mustRun("policy", "attach", "--api", "https://inventory.example/api", "--detach")
	if out := tc.mustRun("policy", "list"); strings.Contains(out, "API requests under / for") {
		t.Fatalf("after detach: %s", out)
	}
}

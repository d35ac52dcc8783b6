package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `portico policy eval` runs Rego policies and API requests too.
func TestPolicyEvalRegoAPIRequest(t *testing.T) {
	module, err := os.ReadFile("../../policyeditor/testdata/api_customers.rego")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pol, _ := json.Marshal(map[string]string{"name": "Customers (Rego)", "kind": "api_request", "rego": string(module)})
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pp := write("p.json", string(pol))
	for path, want := range map[string]string{"/customers/c-2": `"action":"permit"`, "/customers/c-3": `"action":"deny"`} {
		rp := write("r.json", `{"time":"2026-12-01T12:00:00Z","user":{"org":"acme","groups":["sales"],
			"attributes":{"assigned_customers":"c-1,c-2"}},"request":{"method":"GET","path":"`+path+`"}}`)
		out := newTestCLI(t).mustRun("policy", "eval", "--policy", pp, "--request", rp)
		if !strings.Contains(out, want) {
			t.Errorf("%s: %s, want %s", path, out, want)
		}
	}
}

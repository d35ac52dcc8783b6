package main

import (
	"encoding/json"
	"testing"
)

func TestClientExchangeAnySubjectFlag(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	read := func(out string) (id string, any bool) {
		t.Helper()
		var c struct {
			ClientID           string `json:"client_id"`
			ExchangeAnySubject bool   `json:"exchange_any_subject"`
		}
		if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" {
			t.Fatalf("%v %s", err, out)
		}
		return c.ClientID, c.ExchangeAnySubject
	}
	id, any := read(tc.mustRun("client", "create", "--org", "acme", "--name", "Gateway", "--type", "service",
		"--exchange-any-subject", "--json"))
	if !any {
		t.Fatal("create --exchange-any-subject did not set it")
	}
	if _, any = read(tc.mustRun("client", "update", "--client-id", id, "--exchange-any-subject=false", "--json")); any {
		t.Fatal("update --exchange-any-subject=false did not clear it")
	}
	if _, any = read(tc.mustRun("client", "show", "--client-id", id, "--json")); any {
		t.Fatal("the setting was not stored")
	}
	if _, any = read(tc.mustRun("client", "update", "--client-id", id, "--exchange-any-subject", "--json")); !any {
		t.Fatal("update --exchange-any-subject did not set it")
	}
	if _, err := tc.run("client", "update", "--client-id", id); err == nil {
		t.Fatal("update without a setting succeeded")
	}
}

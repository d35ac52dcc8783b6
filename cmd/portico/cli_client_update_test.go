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

// TestClientUpdateFirstParty: a new client is third-party; `client update
// --first-party` marks it first-party and `--first-party=false` undoes it.
func TestClientUpdateFirstParty(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "platform", "--name", "Platform")
	out := tc.mustRun("client", "create", "--org", "platform", "--name", "Status", "--type", "web",
		"--redirect-uri", "https://status.example/cb", "--json")
	var c struct {
		ClientID   string `json:"client_id"`
		FirstParty bool   `json:"first_party"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" || c.FirstParty {
		t.Fatalf("created: %v %s", err, out)
	}
	for _, want := range []bool{true, false} {
		flag := "--first-party"
		if !want {
			flag = "--first-party=false"
		}
		out = tc.mustRun("client", "update", "--client-id", c.ClientID, flag, "--json")
		if err := json.Unmarshal([]byte(out), &c); err != nil || c.FirstParty != want {
			t.Fatalf("after %s: %v %s", flag, err, out)
		}
	}
	if _, err := tc.run("client", "update", "--client-id", c.ClientID); err == nil {
		t.Fatal("an update with nothing to change succeeded")
	}
}

func TestClientSecurityFlags(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	type flags struct {
		ClientID    string `json:"client_id"`
		RequirePAR  bool   `json:"require_par"`
		RequireDPoP bool   `json:"require_dpop"`
		FAPI2       bool   `json:"fapi2"`
	}
	read := func(out string) flags {
		t.Helper()
		var c flags
		if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" {
			t.Fatalf("%v %s", err, out)
		}
		return c
	}
	c := read(tc.mustRun("client", "create", "--org", "acme", "--name", "Web", "--type", "web",
		"--redirect-uri", "https://app.example/cb", "--json"))
	if got := read(tc.mustRun("client", "update", "--client-id", c.ClientID, "--require-par", "--require-dpop", "--json")); !got.RequirePAR || !got.RequireDPoP || got.FAPI2 {
		t.Fatalf("after --require-par --require-dpop: %+v", got)
	}
	if got := read(tc.mustRun("client", "update", "--client-id", c.ClientID, "--require-par=false", "--json")); got.RequirePAR || !got.RequireDPoP {
		t.Fatalf("after --require-par=false: %+v", got)
	}
	// A client with a secret cannot be a FAPI 2.0 client.
	if _, err := tc.run("client", "update", "--client-id", c.ClientID, "--fapi2"); err == nil {
		t.Fatal("--fapi2 accepted for a client_secret client")
	}
	if got := read(tc.mustRun("client", "show", "--client-id", c.ClientID, "--json")); got.FAPI2 {
		t.Fatal("fapi2 stored after a refusal")
	}
}

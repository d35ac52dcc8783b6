package main

import (
	"encoding/json"
	"testing"
)

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

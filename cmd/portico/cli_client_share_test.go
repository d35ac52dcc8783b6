package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestClientShareCommand(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "platform", "--name", "Platform")
	tc.mustRun("plan", "create", "--slug", "gold", "--name", "Gold")
	out := tc.mustRun("client", "create", "--org", "platform", "--name", "Status", "--type", "web",
		"--redirect-uri", "https://status.example/cb", "--launch-url", "https://status.example/", "--json")
	var created struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ClientID == "" {
		t.Fatalf("%v %s", err, out)
	}
	tc.mustRun("client", "share", "--client-id", created.ClientID, "--all")
	out = tc.mustRun("client", "share", "--client-id", created.ClientID, "--plan", "gold", "--json")
	if !strings.Contains(out, `"all"`) || !strings.Contains(out, `"plan:gold"`) {
		t.Fatalf("shares: %s", out)
	}
	out = tc.mustRun("client", "share", "--client-id", created.ClientID, "--all", "--unshare", "--json")
	if strings.Contains(out, `"all"`) {
		t.Fatalf("after unsharing: %s", out)
	}
	if _, err := tc.run("client", "share", "--client-id", created.ClientID, "--all", "--unshare"); err == nil {
		t.Fatal("withdrawing a share that does not exist succeeded")
	}
	if _, err := tc.run("client", "share", "--client-id", created.ClientID); err == nil {
		t.Fatal("neither --all nor --plan accepted")
	}
}

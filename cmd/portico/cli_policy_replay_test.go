package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// TestPolicyReplayCommand records launches through the engine, then replays
// a stricter document (a file) and a saved version (NAME@VERSION) over them.
func TestPolicyReplayCommand(t *testing.T) {
	tc := newTestCLI(t)
	ctx := context.Background()
	st, err := store.Open(ctx, tc.env["PORTICO_DB"])
	if err != nil {
		t.Fatal(err)
	}
	svc := &policyeditor.Service{Store: st}
	saved, err := svc.Import(ctx, cliActorOf(), []byte(ibmPolicy))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, cliActorOf(), saved.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	eng := policyeditor.NewEngine(st, rec)
	now := time.Now().Add(-time.Hour)
	denied := map[string]bool{}
	for i, g := range []string{"developers", "contractors", "contractors", "developers"} {
		out, err := eng.Decide(ctx, &policyeditor.Evaluation{Point: policyeditor.PointLaunch, OrgID: "o", UserID: "u" + g,
			Subject: g + "@acme.example", ClientID: "wiki", Request: policyeditor.Request{Now: now.Add(time.Duration(i) * time.Second),
				IP: netip.MustParseAddr("198.51.100.7"), User: policyeditor.User{Groups: []string{g},
					Locations: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}})
		if err != nil || out.Action != policyeditor.Permit {
			t.Fatal(err, out)
		}
		if g == "contractors" {
			denied[out.DecisionID] = true
		}
	}
	rec.Close()
	strict := strings.Replace(ibmPolicy, `"contractors", `, ``, 1)
	strict = strings.Replace(strict, `["contractors","developers"]`, `["developers"]`, 1)
	if _, err := svc.Save(ctx, cliActorOf(), saved.Policy.ID, 0, mustDoc(t, strict), "strict"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	file := filepath.Join(t.TempDir(), "strict.json")
	if err := os.WriteFile(file, []byte(strict), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{file, "Development portal access@2"} {
		var rep policyeditor.ReplayReport
		if err := json.Unmarshal([]byte(tc.mustRun("policy", "replay", "--policy", ref, "--since", "1d", "--json")), &rep); err != nil {
			t.Fatal(err)
		}
		c := rep.Cell("permit", "deny")
		if rep.Replayed != 4 || rep.Changed != 2 || c.Count != 2 || len(c.Samples) != 2 {
			t.Fatalf("%s: %+v", ref, rep)
		}
		for _, s := range c.Samples {
			if !denied[s.DecisionID] || s.AfterRule != 0 || s.BeforeRule != 2 {
				t.Fatalf("%s: sample %+v is not a contractor's launch", ref, s)
			}
		}
	}
	// Version 1 is what decided: nothing changes.
	out := tc.mustRun("policy", "replay", "--policy", "Development portal access@1", "--since", "1d")
	if !strings.Contains(out, "4 decisions replayed") || !strings.Contains(out, "0 would change") {
		t.Fatalf("replay of the deciding version:\n%s", out)
	}
	if _, err := tc.run("policy", "replay", "--policy", "Nope@1"); err == nil {
		t.Fatal("an unknown policy replayed")
	}

	// Report-only from the CLI: version 1 beside the enforced version 2,
	// then a file as version 3, promoted.
	out = tc.mustRun("policy", "report-only", "--policy", "Development portal access", "--version", "1")
	if !strings.Contains(out, "version 2 enforced, version 1 in report-only mode") {
		t.Fatalf("report-only: %s", out)
	}
	if _, err := tc.run("policy", "report-only", "--policy", "Development portal access", "--version", "2"); err == nil {
		t.Fatal("the enforced version attached as its own report-only version")
	}
	var p store.Policy
	if err := json.Unmarshal([]byte(tc.mustRun("policy", "report-only", "--policy", "Development portal access", "--file", file, "--json")), &p); err != nil || p.ShadowVersion != 3 || p.CurrentVersion != 2 {
		t.Fatalf("report-only file: %v %+v", err, p)
	}
	if _, err := tc.run("policy", "promote", "--policy", "Development portal access", "--version", "1"); err == nil {
		t.Fatal("promoted a version not in report-only mode")
	}
	if out := tc.mustRun("policy", "promote", "--policy", "Development portal access", "--version", "3"); !strings.Contains(out, "version 3 enforced (was 2") {
		t.Fatalf("promote: %s", out)
	}
}

func mustDoc(t *testing.T, s string) policyeditor.Document {
	t.Helper()
	d, err := policyeditor.ParseDocument([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

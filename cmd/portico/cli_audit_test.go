package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAuditList(t *testing.T) {
	tc := newTestCLI(t)
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	tc.mustRun("org", "create", "--slug", "globex", "--name", "Globex")
	tc.mustRun("member", "invite", "--org", "acme", "--email", "dev@acme.example", "--role", "developer")
	tc.mustRun("member", "invite", "--org", "globex", "--email", "gus@globex.example")

	var all []auditEventJSON
	if err := json.Unmarshal([]byte(tc.mustRun("audit", "list", "--json")), &all); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, e := range all {
		seen[e.OrgSlug] = true
		if i > 0 && e.At.After(all[i-1].At) {
			t.Errorf("not newest first: %v after %v", e.At, all[i-1].At)
		}
		if e.Actor != cliActor || e.Action == "" || e.ID == "" {
			t.Errorf("event: %+v", e)
		}
	}
	if !seen["acme"] || !seen["globex"] {
		t.Fatalf("every organization's events were not listed: %+v", all)
	}

	var acme []auditEventJSON
	if err := json.Unmarshal([]byte(tc.mustRun("audit", "list", "--org", "acme", "--json")), &acme); err != nil {
		t.Fatal(err)
	}
	if len(acme) == 0 {
		t.Fatal("no events for acme")
	}
	for _, e := range acme {
		if e.OrgSlug != "acme" || strings.Contains(string(e.After), "globex") {
			t.Errorf("--org acme listed %+v", e)
		}
	}

	var one []auditEventJSON
	if err := json.Unmarshal([]byte(tc.mustRun("audit", "list", "--limit", "1", "--json")), &one); err != nil || len(one) != 1 ||
		one[0].ID != all[0].ID {
		t.Fatalf("--limit 1: %v %+v", err, one)
	}
	if out := tc.mustRun("audit", "list", "--org", "globex"); !strings.Contains(out, "org=globex by=cli") ||
		strings.Contains(out, "org=acme") {
		t.Errorf("human output:\n%s", out)
	}
	for name, args := range map[string][]string{
		"unknown org":  {"audit", "list", "--org", "nope"},
		"zero limit":   {"audit", "list", "--limit", "0"},
		"huge limit":   {"audit", "list", "--limit", "5000"},
		"stray word":   {"audit", "list", "extra"},
		"no such verb": {"audit", "show"},
	} {
		if _, err := tc.run(args...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	empty := newTestCLI(t)
	if out := empty.mustRun("audit", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("an empty log is %q, want []", out)
	}
}

// TestCommandSummariesNameEverySubcommand keeps `portico help` honest: each
// command's summary lists every subcommand its dispatcher knows.
func TestCommandSummariesNameEverySubcommand(t *testing.T) {
	usageRE := regexp.MustCompile(`usage: portico \S+ \{([^}]*)\}`)
	for _, cmd := range commands() {
		if cmd.name == "serve" || cmd.name == "version" {
			continue // no subcommands; serve with no arguments would start the server
		}
		var errb bytes.Buffer
		c := &cli{stdout: &bytes.Buffer{}, stderr: &errb, getenv: func(string) string { return "" }, now: time.Now}
		_ = cmd.run(context.Background(), c, nil)
		m := usageRE.FindStringSubmatch(errb.String())
		if m == nil {
			t.Errorf("%s: no subcommand usage line in %q", cmd.name, errb.String())
			continue
		}
		summary := cmd.summary
		if _, after, ok := strings.Cut(summary, ":"); ok {
			summary = after
		}
		listed := map[string]bool{}
		for _, w := range strings.FieldsFunc(summary, func(r rune) bool { return r == ',' || r == ' ' || r == '(' || r == ')' }) {
			listed[w] = true
		}
		for _, sub := range strings.Split(m[1], "|") {
			if !listed[sub] {
				t.Errorf("%s: summary %q does not name %q", cmd.name, cmd.summary, sub)
			}
		}
	}
}

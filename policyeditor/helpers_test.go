package policyeditor

import (
	"net/netip"
	"testing"
	"time"
)

// ibmJSON is IBM's example from DESIGN.md, verbatim.
const ibmJSON = `{
  "name": "Development portal access",
  "description": "IBM's example",
  "kind": "user_access",
  "rules": [
    {"name": "New location needs MFA",
     "conditions": [{"type": "location", "new": true}],
     "action": "challenge"},
    {"name": "Developers and contractors",
     "conditions": [{"type": "group", "any_of": ["contractors", "developers"]}],
     "action": "permit"}
  ],
  "default": "deny"
}`

func mustCompileJSON(tb testing.TB, doc string) *Policy {
	tb.Helper()
	p, err := CompileJSON([]byte(doc))
	if err != nil {
		tb.Fatalf("CompileJSON: %v", err)
	}
	return p
}

// matches compiles a one-rule policy "if cond → permit, else deny" and reports
// whether the rule matched req.
func matches(tb testing.TB, cond string, req Request) bool {
	tb.Helper()
	p := mustCompileJSON(tb, `{"name":"t","kind":"user_access","default":"deny",
		"rules":[{"conditions":[`+cond+`],"action":"permit"}]}`)
	d := p.Evaluate(&req)
	if (d.Action == Permit) != (d.Rule == 1) {
		tb.Fatalf("inconsistent decision %+v", d)
	}
	return d.Action == Permit
}

func addr(s string) netip.Addr     { return netip.MustParseAddr(s) }
func prefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

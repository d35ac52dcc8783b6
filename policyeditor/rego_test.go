package policyeditor

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// regoDoc wraps a module in a document of kind k.
func regoDoc(tb testing.TB, k Kind, module string) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{"name": "rego", "kind": k, "rego": module})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestRegoAndRulesAgree is issue 14's "done when": the seed's Customers
// policy written with rules and in Rego gives the same decisions on a table
// of requests.
func TestRegoAndRulesAgree(t *testing.T) {
	rulesJSON, err := os.ReadFile("testdata/api_customers.json")
	if err != nil {
		t.Fatal(err)
	}
	module, err := os.ReadFile("testdata/api_customers.rego")
	if err != nil {
		t.Fatal(err)
	}
	rules := mustCompileJSON(t, string(rulesJSON))
	rg := mustCompileJSON(t, string(regoDoc(t, KindAPIRequest, string(module))))
	for _, c := range apiCases {
		t.Run(c.name, func(t *testing.T) {
			req := c.request()
			a, b := rules.Evaluate(&req), rg.Evaluate(&req)
			if a.Action != c.want || b.Action != c.want {
				t.Fatalf("rules %s (%s), Rego %s (%s); want %s", a.Action, a.Reason, b.Action, b.Reason, c.want)
			}
		})
	}
}

func TestRegoCompileErrorsNameTheirLine(t *testing.T) {
	for _, c := range []struct{ module, want string }{
		{"package portico\n\ndecision := {\"action\": \"permit\"} if {\n\tinput.user.org ==\n}\n", "rego: line 5"},
		{"package other\n\ndecision := {}\n", "rego: line 1: the package must be portico, not other"},
		{"package portico\n\ndecision := x if {\n\tx := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1\"})\n}\n", "rego: line 4"},
		{"package portico\n\ndecision := y\n", "rego: line 3"},
	} {
		_, err := CompileJSON(regoDoc(t, KindUserAccess, c.module))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.module, err, c.want)
		}
	}
	// Rules and Rego at once are refused.
	_, err := CompileJSON([]byte(`{"name":"x","kind":"user_access","default":"deny","rego":"package portico\ndecision := {}",
		"rules":[{"conditions":[{"type":"org","in":["a"]}],"action":"permit"}]}`))
	if err == nil || !strings.Contains(err.Error(), "rules: a Rego policy has no rules") {
		t.Errorf("rules with rego: %v", err)
	}
}

func TestRegoDecisions(t *testing.T) {
	req := Request{Org: "acme"}
	for _, c := range []struct {
		kind   Kind
		module string
		want   Action
		reason string
	}{
		{KindUserAccess, `package portico
decision := {"action": "challenge", "reason": "step up"}`, Challenge, "step up"},
		{KindMachineToMachine, `package portico
decision := {"action": "challenge", "reason": "step up"}`, Deny, "cannot pass step-up"},
		{KindUserAccess, `package portico
decision := {"action": "allow"}`, Deny, `"allow" is not permit`},
		{KindUserAccess, `package portico
decision := {"action": "permit"} if input.user.org == "globex"`, Deny, "gave no decision → default deny"},
		{KindUserAccess, `package portico
decision := "permit"`, Deny, "not an object"},
	} {
		p := mustCompileJSON(t, string(regoDoc(t, c.kind, c.module)))
		d := p.Evaluate(&req)
		if d.Action != c.want || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s: %s %q, want %s %q", c.module, d.Action, d.Reason, c.want, c.reason)
		}
	}
	// After step-up a Challenge is met, as with rules.
	p := mustCompileJSON(t, string(regoDoc(t, KindUserAccess, "package portico\ndecision := {\"action\": \"challenge\"}")))
	if d := p.AfterStepUp(&req); d.Action != Permit {
		t.Errorf("after step-up: %+v", d)
	}
}

// BenchmarkRulesVersusRego decides the same request (the sales rep reads an
// assigned customer) with the seed's Customers policy written both ways.
func BenchmarkRulesVersusRego(b *testing.B) {
	rulesJSON, _ := os.ReadFile("testdata/api_customers.json")
	module, _ := os.ReadFile("testdata/api_customers.rego")
	for _, c := range []struct {
		name string
		doc  []byte
	}{{"rules", rulesJSON}, {"rego", regoDoc(b, KindAPIRequest, string(module))}} {
		p := mustCompileJSON(b, string(c.doc))
		req := apiCases[0].request()
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := p.Evaluate(&req); d.Action != Permit {
					b.Fatal(d)
				}
			}
		})
	}
}

// A compiled Rego policy is shared by every request the Engine serves.
func TestRegoConcurrentEvaluate(t *testing.T) {
	module, _ := os.ReadFile("testdata/api_customers.rego")
	p := mustCompileJSON(t, string(regoDoc(t, KindAPIRequest, string(module))))
	done := make(chan Action, 8)
	for i := range 8 {
		go func() {
			req := apiCases[i%len(apiCases)].request()
			var a Action
			for range 20 {
				a = p.Evaluate(&req).Action
			}
			done <- a
		}()
	}
	for range 8 {
		<-done
	}
}

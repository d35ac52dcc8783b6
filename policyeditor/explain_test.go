package policyeditor

import (
	"net/netip"
	"testing"
	"time"
)

func TestExplain(t *testing.T) {
	p := mustCompileJSON(t, `{"name":"t","kind":"user_access","default":"deny","rules":[
		{"name":"office","conditions":[{"type":"ip","in":["9.0.0.0/24"]}],"action":"permit"},
		{"name":"new place","conditions":[{"type":"location","new":true}],"action":"challenge"},
		{"name":"staff","conditions":[{"type":"mfa","within":"15m"},{"type":"country","in":["DE"]}],"action":"permit"},
		{"name":"acme","conditions":[{"type":"org","in":["acme"]}],"action":"deny"}]}`)
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	req := Request{Now: now, IP: addr("198.51.100.4"), User: User{MFAAt: now.Add(-time.Minute), Locations: []netip.Prefix{prefix("198.51.100.0/24")}}}

	tr := p.Explain(&req)
	if tr.Decision != p.Evaluate(&req) {
		t.Fatalf("trace decision %+v differs from Evaluate", tr.Decision)
	}
	want := []RuleTrace{
		{Rule: 1, Name: "office", Failed: 1, Path: "rules[0].conditions[0]", Condition: "source IP in 9.0.0.0/24", Why: "the source IP is 198.51.100.4"},
		{Rule: 2, Name: "new place", Failed: 1, Path: "rules[1].conditions[0]", Condition: "location is new", Why: "198.51.100.0/24 is a remembered location"},
		{Rule: 3, Name: "staff", Failed: 2, Path: "rules[2].conditions[1]", Condition: "country in DE", Why: "the request has no country, so it does not hold"},
		{Rule: 4, Name: "acme", Failed: 1, Path: "rules[3].conditions[0]", Condition: "org in acme", Why: "the request has no organization, so it does not hold"},
	}
	if tr.Decision.Rule != 0 || tr.Decision.Action != Deny {
		t.Fatalf("want the default to decide, got %+v", tr.Decision)
	}
	if len(tr.Rules) != len(want) {
		t.Fatalf("got %d rule traces, want %d: %+v", len(tr.Rules), len(want), tr.Rules)
	}
	for i := range want {
		if tr.Rules[i] != want[i] {
			t.Errorf("rule %d:\n got %+v\nwant %+v", i+1, tr.Rules[i], want[i])
		}
	}

	req.Country = "DE"
	tr = p.Explain(&req)
	if last := tr.Rules[len(tr.Rules)-1]; !last.Matched || last.Rule != 3 || tr.Decision.Rule != 3 {
		t.Fatalf("deciding rule not marked: %+v", tr)
	}

	req.User.Locations = nil
	tr = p.ExplainAfterStepUp(&req)
	if !tr.StepUp || tr.Rules[1].Why != "198.51.100.0/24 is remembered by step-up" || tr.Decision.Rule != 3 {
		t.Fatalf("step-up trace: %+v", tr)
	}
}

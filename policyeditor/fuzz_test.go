package policyeditor

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// fuzzRequests are varied enough to reach every condition kind with and without
// its data.
func fuzzRequests() []Request {
	now := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	return []Request{
		{},
		{Now: now, IP: addr("198.51.100.4"), Country: "BR", Org: "acme", Plan: "gold",
			Attributes: map[string]string{"department": "sales"},
			User: User{Groups: []string{"contractors"}, MFAAt: now.Add(-10 * time.Minute),
				Locations: []netip.Prefix{prefix("203.0.113.0/24")}},
			Client: Client{ID: "inventory-sync", Scopes: []string{"payments:write"}}},
		{Now: now.Add(200 * 24 * time.Hour), IP: addr("::ffff:9.0.0.1"), Country: "DE",
			User: User{Groups: []string{"developers"}, Locations: []netip.Prefix{prefix("9.0.0.0/24")}}},
		{Now: now, IP: addr("2001:db8::1")},
	}
}

func FuzzCompile(f *testing.F) {
	f.Add([]byte(ibmJSON))
	f.Add([]byte(worstCaseJSON))
	f.Add([]byte(`{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[{"type":"ip","in":["10.0.0.0/33"]}],"action":"permit"}]}`))
	f.Add([]byte(`{"name":"t","kind":"machine_to_machine","default":"challenge","rules":[{"conditions":[{"type":"time","from":"22:00","to":"06:00","tz":"Europe/Berlin","negate":true}],"action":"permit"}]}`))
	f.Add([]byte(`{"name":"t","kind":"user_access","default":"challenge","rules":[{"conditions":[{"type":"mfa","within":"1ns"},{"type":"attribute","name":"a","in":["b"]}],"action":"deny"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := CompileJSON(data)
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("error is not a non-empty FieldErrors: %#v", err)
			}
			for _, e := range fe {
				if e.Path == "" || e.Message == "" {
					t.Fatalf("error without path or message: %#v", e)
				}
			}
			return
		}
		again, err := CompileJSON(data)
		if err != nil {
			t.Fatalf("second compile failed: %v", err)
		}
		for _, req := range fuzzRequests() {
			d := p.Evaluate(&req)
			if d2 := p.Evaluate(&req); d2 != d {
				t.Fatalf("Evaluate not deterministic: %+v then %+v", d, d2)
			}
			if d2 := again.Evaluate(&req); d2 != d {
				t.Fatalf("recompiled policy decides differently: %+v vs %+v", d, d2)
			}
			if tr := p.Explain(&req); tr.Decision != d {
				t.Fatalf("Explain decided %+v, Evaluate %+v", tr.Decision, d)
			}
			if d.Reason == "" || d.Action > Challenge {
				t.Fatalf("bad decision %+v", d)
			}
			if s := p.AfterStepUp(&req); s.Action == Challenge {
				t.Fatalf("AfterStepUp challenged again: %+v", s)
			}
		}
	})
}

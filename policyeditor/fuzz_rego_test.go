package policyeditor

import (
	"testing"
)

// FuzzCompileRego compiles arbitrary Rego source as a policy: no panic,
// errors are field errors, and a module that compiles decides every sample
// request the same way twice (the sandbox allows no outside input).
func FuzzCompileRego(f *testing.F) {
	f.Add("package portico\n\ndecision := {\"action\": \"permit\"} if {\n\tinput.user.org == \"acme\"\n}\n")
	f.Add("package portico\n\ndecision := {\"action\": \"challenge\", \"reason\": \"new place\"} if {\n\tnot input.location.known\n}\n")
	f.Add("package portico\n\ndecision := x if {\n\tx := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1\"})\n}\n")
	f.Add("package other\n\ndecision := {}\n")
	f.Add("package portico\n\ndecision := y\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(Document{Name: "fuzz", Kind: KindUserAccess, Default: Deny, Rego: src})
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			return
		}
		for _, req := range fuzzRequests() {
			d := p.Evaluate(&req)
			if d2 := p.Evaluate(&req); d2 != d {
				t.Fatalf("Evaluate not deterministic: %+v then %+v", d, d2)
			}
		}
	})
}

// FuzzParseRequest parses arbitrary JSON as the request of `portico policy
// eval` and the simulator: no panic, and what parses evaluates.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"ip":"198.51.100.4","country":"BR","time":"2026-11-23T23:00:00Z","groups":["contractors"],"locations":["203.0.113.0/24"]}`))
	f.Add([]byte(`{"ip":"::1","mfa_age":"5m","attributes":{"a":"b"},"scopes":["x"]}`))
	f.Add([]byte(`{"time":"not a time"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequest(data, nil)
		if err != nil {
			return
		}
		p, err := CompileJSON([]byte(ibmJSON))
		if err != nil {
			t.Fatal(err)
		}
		p.Evaluate(&req)
	})
}

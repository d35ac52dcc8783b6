package policyeditor

import (
	"testing"
	"time"
)

const blameJSON = `{"name":"Blame","kind":"user_access","rules":[
  {"name":"Blocked country","conditions":[{"type":"country","in":["KP"]}],"action":"deny"},
  {"name":"Office","conditions":[{"type":"group","any_of":["developers"]},{"type":"ip","in":["9.0.0.0/8"]}],"action":"permit"},
  {"name":"Staff need MFA","conditions":[{"type":"group","any_of":["staff"]}],"action":"challenge"}
 ],"default":"deny"}`

// Blame names what a decision turned on: the deny rule's kind, the first
// failing condition of the first rule that would have let the user in, or
// MFA for a challenge.
func TestBlameNamesWhatTheDecisionTurnedOn(t *testing.T) {
	p := mustCompileJSON(t, blameJSON)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		req  Request
		want Blame
	}{
		"permitted":            {Request{Now: now, IP: addr("9.0.0.1"), User: User{Groups: []string{"developers"}}}, BlameNone},
		"not in the group":     {Request{Now: now, IP: addr("9.0.0.1"), User: User{Groups: []string{"sales"}}}, BlameGroup},
		"group, wrong network": {Request{Now: now, IP: addr("198.51.100.1"), User: User{Groups: []string{"developers"}}}, BlameNetwork},
		"deny rule by country": {Request{Now: now, IP: addr("9.0.0.1"), Country: "KP", User: User{Groups: []string{"developers"}}}, BlameNetwork},
		"challenged":           {Request{Now: now, IP: addr("198.51.100.1"), User: User{Groups: []string{"staff"}}}, BlameMFA},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := p.Evaluate(&tc.req)
			if got := p.Blame(&tc.req, d, false); got != tc.want {
				t.Errorf("%+v: blame %q, want %q", d, got, tc.want)
			}
		})
	}
}

// In IBM's example a user in neither group, denied after step-up, is
// denied for their group, not for the location rule the step-up met.
func TestBlameAfterStepUpIgnoresTheMetChallenge(t *testing.T) {
	p := mustCompileJSON(t, ibmJSON)
	req := Request{Now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), IP: addr("9.0.0.17"), User: User{Groups: []string{"sales"}}}
	d := p.AfterStepUp(&req)
	if d.Action != Deny || p.Blame(&req, d, true) != BlameGroup {
		t.Fatalf("%+v blamed %q, want deny for the group", d, p.Blame(&req, d, true))
	}
}

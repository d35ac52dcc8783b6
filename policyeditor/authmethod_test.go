package policyeditor

import (
	"errors"
	"testing"
	"time"
)

// phishingResistantPolicy challenges anyone who has not used a passkey in
// the last 15 minutes and permits everyone else.
func phishingResistantPolicy(t *testing.T) *Policy {
	t.Helper()
	p, err := Compile(Document{Name: "phr", Kind: KindUserAccess, Default: Permit, Rules: []Rule{{
		Name:       "sensitive",
		Conditions: []Condition{{Type: CondAuthMethod, AnyOf: []string{"hwk", "swk"}, Within: "15m", Negate: true}},
		Action:     Challenge,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuthMethodCondition(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := phishingResistantPolicy(t)
	tests := []struct {
		name    string
		methods map[string]time.Time
		stepUp  bool
		want    Action
		with    string
	}{
		{"password only", map[string]time.Time{"pwd": now}, false, Challenge, "hwk swk"},
		{"password and TOTP", map[string]time.Time{"pwd": now, "otp": now}, false, Challenge, "hwk swk"},
		// The step-up was TOTP: a rule demanding a passkey is not met by it.
		{"after a TOTP step-up", map[string]time.Time{"pwd": now, "otp": now}, true, Challenge, "hwk swk"},
		{"passkey 5 minutes ago", map[string]time.Time{"swk": now.Add(-5 * time.Minute), "user": now}, false, Permit, ""},
		{"passkey an hour ago", map[string]time.Time{"hwk": now.Add(-time.Hour)}, false, Challenge, "hwk swk"},
		{"after a passkey step-up", map[string]time.Time{"pwd": now.Add(-time.Hour), "hwk": now}, true, Permit, ""},
		{"nothing recorded", nil, false, Challenge, "hwk swk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := Request{Now: now, User: User{AuthMethods: tc.methods}}
			d := p.Evaluate(&req)
			if tc.stepUp {
				d = p.AfterStepUp(&req)
			}
			if d.Action != tc.want || d.StepUpWith != tc.with {
				t.Fatalf("got %v with %q (%s), want %v with %q", d.Action, d.StepUpWith, d.Reason, tc.want, tc.with)
			}
		})
	}
}

// A plain challenge rule (no method demanded) is still met by any step-up.
func TestPlainChallengeMetByAnyStepUp(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p, err := Compile(Document{Name: "x", Kind: KindUserAccess, Default: Permit, Rules: []Rule{{
		Conditions: []Condition{{Type: CondMFA, Within: "15m", Negate: true}}, Action: Challenge}}})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Now: now, User: User{AuthMethods: map[string]time.Time{"pwd": now}}}
	if d := p.Evaluate(&req); d.Action != Challenge || d.StepUpWith != "" {
		t.Fatalf("got %+v", d)
	}
	if d := p.AfterStepUp(&req); d.Action != Permit {
		t.Fatalf("after step-up: %+v", d)
	}
}

func TestAuthMethodValidationAndDescription(t *testing.T) {
	_, err := Compile(Document{Name: "x", Kind: KindUserAccess, Default: Permit, Rules: []Rule{{
		Conditions: []Condition{{Type: CondAuthMethod, AnyOf: []string{"retina"}, Within: "soon"}}, Action: Deny}}})
	var fe FieldErrors
	if !errors.As(err, &fe) || len(fe) != 2 {
		t.Fatalf("want two field errors (any_of, within), got %v", err)
	}
	_, err = Compile(Document{Name: "x", Kind: KindMachineToMachine, Default: Permit, Rules: []Rule{{
		Conditions: []Condition{{Type: CondAuthMethod, AnyOf: []string{"hwk"}}}, Action: Deny}}})
	if err == nil {
		t.Fatal("an auth_method condition in a machine-to-machine policy compiled")
	}
	doc, err := ParseDocument([]byte(`{"name":"x","kind":"user_access","default":"permit","rules":[
		{"conditions":[{"type":"auth_method","any_of":["hwk","swk"],"within":"15m","negate":true}],"action":"challenge"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := DescribeCondition(doc.Rules[0].Conditions[0]); got != "the user has not authenticated with hwk or swk within 15m" {
		t.Fatalf("description %q", got)
	}
}

package policyeditor

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPartnershipConnectionClientTypeConditions(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cond string
		req  Request
		want bool
	}{
		{"partnership: ends in 10 days, within 30d", `{"type":"partnership","ends_within":"30d"}`, Request{Now: now, ValidUntil: now.AddDate(0, 0, 10)}, true},
		{"partnership: ends in exactly 30 days", `{"type":"partnership","ends_within":"30d"}`, Request{Now: now, ValidUntil: now.AddDate(0, 0, 30)}, true},
		{"partnership: a second later than 30 days", `{"type":"partnership","ends_within":"30d"}`, Request{Now: now, ValidUntil: now.AddDate(0, 0, 30).Add(time.Second)}, false},
		{"partnership: already ended", `{"type":"partnership","ends_within":"30d"}`, Request{Now: now, ValidUntil: now.Add(-time.Hour)}, true},
		{"partnership: Go duration", `{"type":"partnership","ends_within":"72h"}`, Request{Now: now, ValidUntil: now.Add(48 * time.Hour)}, true},
		{"partnership: no end date", `{"type":"partnership","ends_within":"30d"}`, Request{Now: now}, false},
		{"partnership: no end date, negated", `{"type":"partnership","ends_within":"30d","negate":true}`, Request{Now: now}, true},
		{"partnership: far away, negated", `{"type":"partnership","ends_within":"30d","negate":true}`, Request{Now: now, ValidUntil: now.AddDate(1, 0, 0)}, true},
		{"partnership: no clock", `{"type":"partnership","ends_within":"30d"}`, Request{ValidUntil: now}, false},

		{"connection: listed", `{"type":"connection","in":["c1","c2"]}`, Request{User: User{ConnectionID: "c2"}}, true},
		{"connection: other", `{"type":"connection","in":["c1"]}`, Request{User: User{ConnectionID: "c3"}}, false},
		{"connection: missing", `{"type":"connection","in":["c1"]}`, Request{}, false},
		{"connection: missing, negated", `{"type":"connection","in":["c1"],"negate":true}`, Request{}, true},

		{"client_type: listed", `{"type":"client_type","in":["spa","native"]}`, Request{Client: Client{Type: "native"}}, true},
		{"client_type: other", `{"type":"client_type","in":["spa"]}`, Request{Client: Client{Type: "web"}}, false},
		{"client_type: missing", `{"type":"client_type","in":["spa"]}`, Request{}, false},
		{"client_type: missing, negated", `{"type":"client_type","in":["spa"],"negate":true}`, Request{}, true},

		{"issuer: listed", `{"type":"issuer","in":["https://idp.partner.example"]}`, Request{Issuer: "https://idp.partner.example"}, true},
		{"issuer: other", `{"type":"issuer","in":["https://idp.partner.example"]}`, Request{Issuer: "https://idp.other.example"}, false},
		{"issuer: local subject", `{"type":"issuer","in":["https://idp.partner.example"]}`, Request{}, false},
		{"issuer: local subject, negated", `{"type":"issuer","in":["https://idp.partner.example"],"negate":true}`, Request{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := matches(t, tc.cond, tc.req); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewConditionsValidation(t *testing.T) {
	rule := func(conds string) string {
		return `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[` + conds + `],"action":"permit"}]}`
	}
	tests := []struct {
		name string
		doc  string
		want []FieldError
	}{
		{"ends_within missing", rule(`{"type":"partnership"}`), []FieldError{{"rules[0].conditions[0].ends_within", "required"}}},
		{"ends_within not days", rule(`{"type":"partnership","ends_within":"a month"}`),
			[]FieldError{{"rules[0].conditions[0].ends_within", `"a month" is not a number of days (such as "30d") or a duration (such as "72h")`}}},
		{"ends_within bad days", rule(`{"type":"partnership","ends_within":"xd"}`),
			[]FieldError{{"rules[0].conditions[0].ends_within", `"xd" is not a number of days (such as "30d")`}}},
		{"ends_within zero", rule(`{"type":"partnership","ends_within":"0d"}`), []FieldError{{"rules[0].conditions[0].ends_within", `"0d" must be longer than zero`}}},
		{"ends_within wrong JSON type", rule(`{"type":"partnership","ends_within":30}`), []FieldError{{"rules[0].conditions[0].ends_within", `must be a number of days such as "30d"`}}},
		{"connection empty list", rule(`{"type":"connection","in":[]}`), []FieldError{{"rules[0].conditions[0].in", "must list at least one value"}}},
		{"connection without in", rule(`{"type":"connection"}`), []FieldError{{"rules[0].conditions[0].in", "required"}}},
		{"client_type unknown", rule(`{"type":"client_type","in":["web","desktop"]}`),
			[]FieldError{{"rules[0].conditions[0].in[1]", `"desktop" is not a client type (web, spa, native, service)`}}},
		{"issuer not a URL", rule(`{"type":"issuer","in":["https://idp.example","partner"]}`),
			[]FieldError{{"rules[0].conditions[0].in[1]", `"partner" is not an issuer URL (such as https://login.partner.example)`}}},
		{"issuer without in", rule(`{"type":"issuer"}`), []FieldError{{"rules[0].conditions[0].in", "required"}}},
		{"foreign field refused", rule(`{"type":"client_type","in":["web"],"ends_within":"3d"}`),
			[]FieldError{{"rules[0].conditions[0].ends_within", "unknown field for a client_type condition"}}},
		{"machines have no connection", `{"name":"t","kind":"machine_to_machine","default":"deny","rules":[{"conditions":[{"type":"connection","in":["c"]}],"action":"permit"}]}`,
			[]FieldError{{"rules[0].conditions[0].type", "a machine-to-machine request has no user, so a connection condition would never hold"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileJSON([]byte(tc.doc))
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not FieldErrors", err)
			}
			for _, w := range tc.want {
				found := false
				for _, e := range fe {
					found = found || e == w
				}
				if !found {
					t.Errorf("missing %q\ngot:\n%v", w.Error(), err)
				}
			}
		})
	}
	// A Go-built condition with a field its type does not use is refused too.
	_, err := Compile(Document{Name: "t", Kind: KindUserAccess, Rules: []Rule{{Action: Permit,
		Conditions: []Condition{{Type: CondConnection, In: []string{"c"}, EndsWithin: "3d"}}}}})
	if err == nil || !strings.Contains(err.Error(), "rules[0].conditions[0].ends_within: unknown field") {
		t.Errorf("stray ends_within: %v", err)
	}
}

func TestNewConditionsRoundTripAndDescribe(t *testing.T) {
	doc := `{"name":"Partners","kind":"user_access","rules":[
		{"conditions":[{"type":"partnership","ends_within":"30d"},{"type":"connection","in":["conn-1"],"negate":true},{"type":"client_type","in":["spa","native"]}],"action":"challenge"}],
		"default":"permit"}`
	d, err := ParseDocument([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(d)
	d2, err := ParseDocument(out)
	if err != nil || len(d2.Rules[0].Conditions) != 3 || d2.Rules[0].Conditions[0].EndsWithin != "30d" {
		t.Fatalf("round trip: %v %s", err, out)
	}
	got := Describe(d)[0].String()
	want := "If the partnership ends within 30d and the user did not sign in through conn-1 and the client type is spa or native → Challenge."
	if got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
	p := mustCompileJSON(t, doc)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	req := Request{Now: now, ValidUntil: now.AddDate(0, 0, 5), User: User{ConnectionID: "conn-2"}, Client: Client{Type: "spa"}}
	if n := testing.AllocsPerRun(100, func() { p.Evaluate(&req) }); n != 0 {
		t.Errorf("%v allocations per decision", n)
	}
	if d := p.Evaluate(&req); d.Action != Challenge || d.Rule != 1 {
		t.Errorf("got %+v", d)
	}
	req.Client.Type = "web"
	tr := p.Explain(&req)
	if len(tr.Rules) != 1 || tr.Rules[0].Why != `the client type is "web"` {
		t.Errorf("explain: %+v", tr.Rules)
	}
	req.Client.Type, req.ValidUntil = "spa", now.AddDate(0, 2, 0)
	if tr := p.Explain(&req); !strings.HasPrefix(tr.Rules[0].Why, "the partnership ends 2027-01-23T12:00:00Z") {
		t.Errorf("explain: %+v", tr.Rules)
	}
}

func TestEvalJSONNewRequestFields(t *testing.T) {
	pol := `{"name":"t","kind":"user_access","default":"deny","rules":[
		{"conditions":[{"type":"partnership","ends_within":"30d"}],"action":"challenge"},
		{"conditions":[{"type":"connection","in":["okta"]},{"type":"client_type","in":["web"]}],"action":"permit"}]}`
	tests := []struct {
		req, want string
	}{
		{`{"time":"2026-11-23T23:00:00Z","user":{"partnership_ends":"2026-12-01T00:00:00Z"}}`, `{"action":"challenge","rule":1,`},
		{`{"time":"2026-11-23T23:00:00Z","user":{"connection":"okta","partnership_ends":"2027-12-01T00:00:00Z"},"client":{"type":"web"}}`, `{"action":"permit","rule":2,`},
		{`{"time":"2026-11-23T23:00:00Z","user":{"connection":"okta"},"client":{"type":"spa"}}`, `{"action":"deny","rule":null,`},
	}
	for _, tc := range tests {
		out, err := EvalJSON([]byte(pol), []byte(tc.req), nil)
		if err != nil || !strings.HasPrefix(string(out), tc.want) {
			t.Errorf("%s: got %s %v, want %s…", tc.req, out, err, tc.want)
		}
	}
	_, err := EvalJSON([]byte(pol), []byte(`{"time":"2026-11-23T23:00:00Z","user":{"partnership_ends":"soon"},"client":{"type":"desktop"}}`), nil)
	if err == nil || !strings.Contains(err.Error(), "user.partnership_ends") || !strings.Contains(err.Error(), "client.type") {
		t.Errorf("bad request fields: %v", err)
	}
}

func TestIssuerConditionDescribeExplainEvalJSON(t *testing.T) {
	doc := `{"name":"Partner IdP","kind":"machine_to_machine","rules":[
		{"conditions":[{"type":"issuer","in":["https://idp.partner.example"]}],"action":"permit"}],"default":"deny"}`
	d, err := ParseDocument([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Describe(d)[0].String(), "If the subject's token issuer is https://idp.partner.example → Permit."; got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
	p := mustCompileJSON(t, doc)
	req := Request{Issuer: "https://idp.other.example"}
	if d := p.Evaluate(&req); d.Action != Deny {
		t.Errorf("other issuer: %+v", d)
	}
	if tr := p.Explain(&req); tr.Rules[0].Why != `the issuer is "https://idp.other.example"` {
		t.Errorf("explain: %+v", tr.Rules)
	}
	out, err := EvalJSON([]byte(doc), []byte(`{"time":"2026-11-23T12:00:00Z","issuer":"https://idp.partner.example"}`), nil)
	if err != nil || !strings.Contains(string(out), `"action":"permit"`) {
		t.Errorf("eval: %s %v", out, err)
	}
	if c := ContextOf(&Request{Issuer: "https://idp.partner.example"}, false); c.Issuer != "https://idp.partner.example" {
		t.Errorf("the decision log does not keep the issuer: %+v", c)
	}
}

package policyeditor

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileJSONErrors(t *testing.T) {
	rule := func(conds string) string {
		return `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[` + conds + `],"action":"permit"}]}`
	}
	tests := []struct {
		name string
		doc  string
		want []FieldError // each must be reported, others may be too
	}{
		{"DESIGN.md's example message", rule(`{"type":"ip","in":["10.0.0.0/33"]}`),
			[]FieldError{{"rules[0].conditions[0].in[0]", `"10.0.0.0/33" is not an IP range`}}},
		{"not JSON", `{"name":`, []FieldError{{DocumentPath, "not valid JSON: unexpected end of JSON input (at byte 8)"}}},
		{"trailing data", `{"name":"t"} x`, []FieldError{{DocumentPath, "not valid JSON: invalid character 'x' after top-level value (at byte 14)"}}},
		{"not an object", `[]`, []FieldError{{DocumentPath, "must be a JSON object"}}},
		{"missing default, kind and name", `{"rules":[]}`, []FieldError{{"name", "required"}, {"kind", "required"}, {"default", "required"}}},
		{"unknown top-level field", `{"name":"t","kind":"user_access","default":"deny","owner":"me"}`, []FieldError{{"owner", "unknown field"}}},
		{"field names are case-sensitive", `{"name":"t","Kind":"user_access","kind":"user_access","default":"deny"}`, []FieldError{{"Kind", "unknown field"}}},
		{"bad kind", `{"name":"t","kind":"users","default":"deny"}`, []FieldError{{"kind", `"users" is not a kind (user_access, machine_to_machine, client_registration or api_request)`}}},
		{"bad default", `{"name":"t","kind":"user_access","default":"allow"}`, []FieldError{{"default", `"allow" is not an action (permit, deny or challenge)`}}},
		{"rule without action", `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[{"type":"org","in":["a"]}]}]}`, []FieldError{{"rules[0].action", "required"}}},
		{"rule without conditions", `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[],"action":"permit"}]}`,
			[]FieldError{{"rules[0].conditions", "a rule needs at least one condition; use default for what applies to everyone"}}},
		{"unknown rule field", `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[{"type":"org","in":["a"]}],"action":"permit","when":1}]}`,
			[]FieldError{{"rules[0].when", "unknown field"}}},
		{"unknown condition type", rule(`{"type":"weather","in":["rain"]}`),
			[]FieldError{{"rules[0].conditions[0].type", `unknown condition type "weather" (one of group, ip, country, location, time, org, plan, partnership, mfa, auth_method, connection, attribute, client, client_type, issuer, scope, feature, api, host, method, param_in_attribute, path, sender_constrained, token_age)`}}},
		{"field of another type", rule(`{"type":"group","in":["devs"]}`),
			[]FieldError{{"rules[0].conditions[0].in", "unknown field for a group condition"}, {"rules[0].conditions[0].any_of", "required"}}},
		{"wrong JSON type", rule(`{"type":"group","any_of":"devs"}`), []FieldError{{"rules[0].conditions[0].any_of", "must be a list of strings"}}},
		{"empty list", rule(`{"type":"org","in":[]}`), []FieldError{{"rules[0].conditions[0].in", "must list at least one value"}}},
		{"empty and duplicate items", rule(`{"type":"scope","any_of":["a","","a"," b"]}`), []FieldError{
			{"rules[0].conditions[0].any_of[1]", "must not be empty"},
			{"rules[0].conditions[0].any_of[2]", `"a" is listed twice`},
			{"rules[0].conditions[0].any_of[3]", `" b" has spaces around it`}}},
		{"bad IPs", rule(`{"type":"ip","in":["10.0.0.256","fe80::1%eth0","2001:db8::/129","example.com"]}`), []FieldError{
			{"rules[0].conditions[0].in[0]", `"10.0.0.256" is not an IP range`},
			{"rules[0].conditions[0].in[1]", `"fe80::1%eth0" is not an IP range`},
			{"rules[0].conditions[0].in[2]", `"2001:db8::/129" is not an IP range`},
			{"rules[0].conditions[0].in[3]", `"example.com" is not an IP range`}}},
		{"bad countries", rule(`{"type":"country","in":["UK","de","EU","XK"]}`), []FieldError{
			{"rules[0].conditions[0].in[0]", `"UK" is not an ISO 3166 alpha-2 country code (the United Kingdom is "GB")`},
			{"rules[0].conditions[0].in[1]", `"de" is not an ISO 3166 alpha-2 country code (use "DE")`},
			{"rules[0].conditions[0].in[2]", `"EU" is not an ISO 3166 alpha-2 country code`},
			{"rules[0].conditions[0].in[3]", `"XK" is not an ISO 3166 alpha-2 country code`}}},
		{"location must say new", rule(`{"type":"location"}`),
			[]FieldError{{"rules[0].conditions[0].new", `must be true ("location is new"); for a remembered location add "negate": true`}}},
		{"bad times", rule(`{"type":"time","days":["monday"],"from":"8:00","to":"24:00","tz":"Mars/Olympus"}`), []FieldError{
			{"rules[0].conditions[0].days[0]", `"monday" is not a day (mon, tue, wed, thu, fri, sat, sun)`},
			{"rules[0].conditions[0].from", `"8:00" is not a time of day "HH:MM" (00:00 to 23:59)`},
			{"rules[0].conditions[0].to", `"24:00" is not a time of day "HH:MM" (00:00 to 23:59)`},
			{"rules[0].conditions[0].tz", `"Mars/Olympus" is not a known time zone`}}},
		{"time without zone", rule(`{"type":"time","days":["mon"]}`),
			[]FieldError{{"rules[0].conditions[0].tz", `required (an IANA time zone such as "Europe/Berlin" or "UTC")`}}},
		{"Local zone refused", rule(`{"type":"time","days":["mon"],"tz":"Local"}`), []FieldError{{"rules[0].conditions[0].tz", `"Local" is not a known time zone`}}},
		{"time without anything", rule(`{"type":"time","tz":"UTC"}`), []FieldError{{"rules[0].conditions[0]", `a time condition needs days, or "from" and "to", or both`}}},
		{"from without to", rule(`{"type":"time","from":"08:00","tz":"UTC"}`), []FieldError{{"rules[0].conditions[0].to", `required with "from"`}}},
		{"empty window", rule(`{"type":"time","from":"08:00","to":"08:00","tz":"UTC"}`), []FieldError{{"rules[0].conditions[0].to", `must differ from "from"; for whole days leave out both`}}},
		{"bad durations", rule(`{"type":"mfa","within":"15 minutes"},{"type":"mfa","within":"-5m"},{"type":"mfa"}`), []FieldError{
			{"rules[0].conditions[0].within", `"15 minutes" is not a duration (such as "15m" or "12h")`},
			{"rules[0].conditions[1].within", `"-5m" must be longer than zero`},
			{"rules[0].conditions[2].within", "required"}}},
		{"attribute without name", rule(`{"type":"attribute","in":["x"]}`), []FieldError{{"rules[0].conditions[0].name", "required"}}},
		{"machines cannot step up", `{"name":"t","kind":"machine_to_machine","default":"challenge","rules":[{"conditions":[{"type":"client","in":["a"]}],"action":"challenge"}]}`, []FieldError{
			{"rules[0].action", "a machine client cannot pass step-up MFA; use permit or deny"},
			{"default", "a machine client cannot pass step-up MFA; use permit or deny"}}},
		{"machines have no user", `{"name":"t","kind":"machine_to_machine","default":"deny","rules":[{"conditions":[{"type":"group","any_of":["a"]}],"action":"permit"}]}`,
			[]FieldError{{"rules[0].conditions[0].type", "a machine-to-machine request has no user, so a group condition would never hold"}}},
		{"second rule's problems carry its index", `{"name":"t","kind":"user_access","default":"deny","rules":[
			{"conditions":[{"type":"org","in":["a"]}],"action":"permit"},
			{"conditions":[{"type":"org","in":["a"]},{"type":"plan","in":[1]}],"action":"permit"}]}`,
			[]FieldError{{"rules[1].conditions[1].in", "must be a list of strings"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompileJSON([]byte(tc.doc))
			if p != nil {
				t.Fatal("an invalid document produced a policy")
			}
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
			for _, e := range fe {
				if e.Path == "" || e.Message == "" {
					t.Errorf("error without path or message: %+v", e)
				}
			}
		})
	}
}

func TestCompileReportsEverythingAtOnceInPlaceOrder(t *testing.T) {
	_, err := CompileJSON([]byte(`{"name":"t","kind":"user_access","default":"deny","rules":[
		{"conditions":[{"type":"ip","in":["x"]},{"type":"group","any_of":5}],"action":"permit"},
		{"conditions":[{"type":"org","in":[]}],"action":"nope"}]}`))
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range fe {
		paths = append(paths, e.Path)
	}
	want := "rules[0].conditions[0].in[0] rules[0].conditions[1].any_of rules[1].action rules[1].conditions[0].in"
	if got := strings.Join(paths, " "); got != want {
		t.Fatalf("paths = %s\nwant    %s", got, want)
	}
	if msgs := fe.For("rules[1].action"); len(msgs) != 1 {
		t.Fatalf("For = %v", msgs)
	}
}

func TestCompileGoDocument(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		want FieldError
	}{
		{"field set for another type", Document{Name: "t", Kind: KindUserAccess, Rules: []Rule{{Conditions: []Condition{
			{Type: CondOrg, In: []string{"a"}, TZ: "UTC"}}}}}, FieldError{"rules[0].conditions[0].tz", "unknown field for an org condition"}},
		{"action out of range", Document{Name: "t", Kind: KindUserAccess, Default: Action(9)}, FieldError{"default", "9 is not an action"}},
		{"missing type", Document{Name: "t", Kind: KindUserAccess, Rules: []Rule{{Conditions: []Condition{{}}}}}, FieldError{"rules[0].conditions[0].type", "required"}},
		{"nil list", Document{Name: "t", Kind: KindUserAccess, Rules: []Rule{{Conditions: []Condition{{Type: CondGroup}}}}}, FieldError{"rules[0].conditions[0].any_of", "required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.doc)
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe.For(tc.want.Path)) == 0 || fe.For(tc.want.Path)[0] != tc.want.Message {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Compile(Document{Name: "only a default", Kind: KindClientRegistration}); err != nil {
		t.Fatalf("a policy with only a default: %v", err)
	}
}

func TestOddKeysGetQuotedPaths(t *testing.T) {
	_, err := CompileJSON([]byte(`{"":1,"a.b":2,"name":"t","kind":"user_access","default":"deny",
		"rules":[{"conditions":[{"type":"org","in":["a"],"x[0]":1}],"action":"permit"}]}`))
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	for _, p := range []string{`[""]`, `["a.b"]`, `rules[0].conditions[0]["x[0]"]`} {
		if len(fe.For(p)) == 0 {
			t.Errorf("no error at %s; got:\n%v", p, err)
		}
	}
}

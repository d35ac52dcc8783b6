package policyeditor

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// designRequest is the request of DESIGN.md's `policy eval` example.
const designRequest = `{"time": "2026-11-23T23:00:00Z", "ip": "198.51.100.4", "country": "BR",
           "user": {"groups": ["contractors"], "org": "acme", "plan": "gold",
                    "attributes": {"department": "sales"},
                    "mfa_at": "2026-11-23T22:50:00Z", "locations": ["203.0.113.0/24"]},
           "client": {"id": "inventory-sync", "scopes": ["payments:write"]}}`

type fixedLocator map[netip.Addr]string

func (f fixedLocator) Country(a netip.Addr) string { return f[a] }

func TestEvalJSON(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		request string
		loc     Locator
		want    string
	}{
		{"DESIGN.md example", ibmJSON, designRequest, nil,
			`{"action":"challenge","rule":1,"reason":"rule 1 (New location needs MFA): location is new → challenge"}`},
		{"remembered location", ibmJSON, strings.Replace(designRequest, "203.0.113.0/24", "198.51.100.0/24", 1), nil,
			`{"action":"permit","rule":2,"reason":"rule 2 (Developers and contractors): user is in any of contractors, developers → permit"}`},
		{"default gives null rule", ibmJSON, `{"time":"2026-11-23T23:00:00Z"}`, nil,
			`{"action":"deny","rule":null,"reason":"no rule matched → default deny"}`},
		{"country from the locator", `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[{"type":"country","in":["BR"]}],"action":"permit"}]}`,
			`{"time":"2026-11-23T23:00:00Z","ip":"198.51.100.4"}`, fixedLocator{addr("198.51.100.4"): "BR"},
			`{"action":"permit","rule":1,"reason":"rule 1: country in BR → permit"}`},
		{"given country overrides the locator", `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[{"type":"country","in":["BR"]}],"action":"permit"}]}`,
			`{"time":"2026-11-23T23:00:00Z","ip":"198.51.100.4","country":"DE"}`, fixedLocator{addr("198.51.100.4"): "BR"},
			`{"action":"deny","rule":null,"reason":"no rule matched → default deny"}`},
		{"every request field reaches the engine", `{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[
			{"type":"org","in":["acme"]},{"type":"plan","in":["gold"]},{"type":"attribute","name":"department","in":["sales"]},
			{"type":"mfa","within":"15m"},{"type":"client","in":["inventory-sync"]},{"type":"scope","any_of":["payments:write"]},
			{"type":"ip","in":["198.51.100.0/24"]},{"type":"country","in":["BR"]},{"type":"group","any_of":["contractors"]},
			{"type":"time","days":["mon"],"from":"22:00","to":"06:00","tz":"UTC"}],"action":"permit"}]}`, designRequest, nil,
			`{"action":"permit","rule":1,"reason":"rule 1: org in acme and plan in gold and attribute department in sales and MFA within 15m and client in inventory-sync and requested scopes include any of payments:write and source IP in 198.51.100.0/24 and country in BR and user is in any of contractors and time is mon 22:00–06:00 UTC → permit"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EvalJSON([]byte(tc.policy), []byte(tc.request), tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			var shape map[string]any
			if err := json.Unmarshal(got, &shape); err != nil || len(shape) != 3 {
				t.Fatalf("output is not the 3-field contract: %s", got)
			}
		})
	}
}

func TestEvalJSONErrors(t *testing.T) {
	tests := []struct {
		name, policy, request, prefix string
		want                          FieldError
	}{
		{"bad policy", `{"name":"t","kind":"user_access"}`, designRequest, "policy: ", FieldError{"default", "required"}},
		{"no time", ibmJSON, `{"ip":"1.2.3.4"}`, "request: ", FieldError{"time", "required: the engine reads no clock"}},
		{"bad ip", ibmJSON, `{"time":"2026-11-23T23:00:00Z","ip":"1.2.3"}`, "request: ", FieldError{"ip", `"1.2.3" is not an IP address`}},
		{"bad country", ibmJSON, `{"time":"2026-11-23T23:00:00Z","country":"UK"}`, "request: ",
			FieldError{"country", `"UK" is not an ISO 3166 alpha-2 country code (the United Kingdom is "GB")`}},
		{"bad location", ibmJSON, `{"time":"2026-11-23T23:00:00Z","user":{"locations":["home"]}}`, "request: ",
			FieldError{"user.locations[0]", `"home" is not a network or address`}},
		{"bad mfa time", ibmJSON, `{"time":"2026-11-23T23:00:00Z","user":{"mfa_at":"yesterday"}}`, "request: ",
			FieldError{"user.mfa_at", `"yesterday" is not an RFC 3339 time such as 2026-11-23T23:00:00Z`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EvalJSON([]byte(tc.policy), []byte(tc.request), nil)
			var fe FieldErrors
			if err == nil || !strings.HasPrefix(err.Error(), tc.prefix) || !errors.As(err, &fe) {
				t.Fatalf("err = %v", err)
			}
			if m := fe.For(tc.want.Path); len(m) == 0 || m[0] != tc.want.Message {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := EvalJSON([]byte(ibmJSON), []byte(`{"time":"2026-11-23T23:00:00Z","colour":"red"}`), nil); err == nil {
		t.Fatal("unknown request field accepted")
	}
}

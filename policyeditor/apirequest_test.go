package policyeditor

import (
	"os"
	"strings"
	"testing"
	"time"
)

// apiCase is one request to the seed's Customers API policy and the action
// it must get, whichever language the policy is written in.
type apiCase struct {
	name           string
	org            string
	groups         []string
	assigned       string // the user's assigned_customers attribute; "-" for none
	method, path   string
	want           Action
	wantRuleInRule int // the rule that decides in the rules version (0: default)
}

var apiCases = []apiCase{
	{"rep reads an assigned customer", "acme", []string{"sales"}, "c-1,c-2", "GET", "/customers/c-2", Permit, 3},
	{"rep reads below an assigned customer", "acme", []string{"sales"}, "c-1,c-2", "GET", "/customers/c-1/orders", Permit, 3},
	{"rep reads another customer", "acme", []string{"sales"}, "c-1,c-2", "GET", "/customers/c-3", Deny, 0},
	{"prefix of an assigned id is not that id", "acme", []string{"sales"}, "c-1", "GET", "/customers/c-10", Deny, 0},
	{"rep may not change an assigned customer", "acme", []string{"sales"}, "c-1", "DELETE", "/customers/c-1", Deny, 0},
	{"rep without the attribute", "acme", []string{"sales"}, "-", "GET", "/customers/c-1", Deny, 0},
	{"rep lists all customers", "acme", []string{"sales"}, "c-1", "GET", "/customers", Deny, 0},
	{"admin changes any customer", "acme", []string{"customer-admins"}, "-", "DELETE", "/customers/c-9", Permit, 2},
	{"admin lists customers", "acme", []string{"customer-admins"}, "-", "GET", "/customers", Permit, 2},
	{"admin outside the customers API", "acme", []string{"customer-admins"}, "-", "GET", "/invoices/1", Deny, 0},
	{"another organization's rep", "globex", []string{"sales"}, "c-1", "GET", "/customers/c-1", Deny, 1},
	{"another organization's admin", "globex", []string{"customer-admins"}, "-", "GET", "/customers", Deny, 1},
}

func (c apiCase) request() Request {
	r := Request{Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), Org: c.org, User: User{Groups: c.groups},
		HTTP: HTTPRequest{Method: c.method, Path: c.path, Host: "api.acme.example"}}
	if c.assigned != "-" {
		r.Attributes = map[string]string{"assigned_customers": c.assigned}
	}
	return r
}

func TestAPIRequestSeedPolicyWithRules(t *testing.T) {
	doc, err := os.ReadFile("testdata/api_customers.json")
	if err != nil {
		t.Fatal(err)
	}
	p := mustCompileJSON(t, string(doc))
	for _, c := range apiCases {
		t.Run(c.name, func(t *testing.T) {
			req := c.request()
			d := p.Evaluate(&req)
			if d.Action != c.want || d.Rule != c.wantRuleInRule {
				t.Fatalf("got %s by rule %d (%s), want %s by rule %d", d.Action, d.Rule, d.Reason, c.want, c.wantRuleInRule)
			}
		})
	}
	// The permit path of the authorizer must not allocate.
	req := apiCases[0].request()
	if n := testing.AllocsPerRun(100, func() { p.Evaluate(&req) }); n != 0 {
		t.Fatalf("Evaluate allocates %v times per run", n)
	}
}

func TestPathPatterns(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		match         bool
		id            string
	}{
		{"/customers/{id}", "/customers/c-7", true, "c-7"},
		{"/customers/{id}", "/customers", false, ""},
		{"/customers/{id}", "/customers/", false, ""},
		{"/customers/{id}", "/customers/c-7/orders", false, ""},
		{"/customers/{id}/**", "/customers/c-7/orders/1", true, "c-7"},
		{"/customers/{id}/**", "/customers/c-7", true, "c-7"},
		{"/customers/**", "/customers", true, ""},
		{"/customers/**", "/customersX", false, ""},
		{"/", "/", true, ""},
		{"/", "/x", false, ""},
		{"/**", "/anything/at/all", true, ""},
	} {
		p, msg := compilePattern(c.pattern)
		if msg != "" {
			t.Fatalf("%s: %s", c.pattern, msg)
		}
		ok, id := p.match(c.path, "id")
		if ok != c.match || (ok && id != c.id) {
			t.Errorf("%s on %s: %v %q, want %v %q", c.pattern, c.path, ok, id, c.match, c.id)
		}
	}
	for _, bad := range []string{"customers", "/a//b", "/a/**/b", "/a/x{id}", "/a/{id}/{id}", "/a/{i-d}"} {
		if _, msg := compilePattern(bad); msg == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAPIRequestConditionErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"name":"x","kind":"api_request","default":"deny","rules":[{"conditions":[{"type":"param_in_attribute","param":"id","attribute":"a"}],"action":"permit"}]}`,
			"rules[0].conditions[0].param: no path condition of this rule has a pattern with {id}"},
		{`{"name":"x","kind":"api_request","default":"deny","rules":[{"conditions":[{"type":"param_in_attribute","attribute":"a"}],"action":"permit"}]}`,
			`rules[0].conditions[0]: needs exactly one of "param", "header" or "query"`},
		{`{"name":"x","kind":"user_access","default":"deny","rules":[{"conditions":[{"type":"method","in":["GET"]}],"action":"permit"}]}`,
			"rules[0].conditions[0].type: a method condition only means something in api_request policies"},
		{`{"name":"x","kind":"api_request","default":"deny","rules":[{"conditions":[{"type":"method","in":["get"]}],"action":"permit"}]}`,
			`rules[0].conditions[0].in[0]: "get" is not an HTTP method in upper case (GET, POST…)`},
		{`{"name":"x","kind":"api_request","default":"deny","rules":[{"conditions":[{"type":"path","in":["/a"],"attribute":"x"}],"action":"permit"}]}`,
			"rules[0].conditions[0].attribute: unknown field for a path condition"},
	} {
		_, err := CompileJSON([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n got %v\nwant %s", c.doc, err, c.want)
		}
	}
}

func TestTokenConditions(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	req := Request{Now: now, Client: Client{ID: "app"}, Token: Token{IssuedAt: now.Add(-10 * time.Minute), Features: []string{"reports"}},
		HTTP: HTTPRequest{Method: "GET", Path: "/r", Host: "api.example", Header: map[string][]string{"X-Customer": {"c-1"}},
			Query: map[string][]string{"customer": {"c-2"}}}, Attributes: map[string]string{"assigned": "c-1, c-2"}}
	api := func(cond string) bool {
		p := mustCompileJSON(t, `{"name":"t","kind":"api_request","default":"deny","rules":[{"conditions":[`+cond+`],"action":"permit"}]}`)
		return p.Evaluate(&req).Action == Permit
	}
	for cond, want := range map[string]bool{
		`{"type":"token_age","within":"15m"}`:                                        true,
		`{"type":"token_age","within":"5m"}`:                                         false,
		`{"type":"sender_constrained"}`:                                              false,
		`{"type":"sender_constrained","negate":true}`:                                true,
		`{"type":"feature","any_of":["reports"]}`:                                    true,
		`{"type":"host","in":["api.example"]}`:                                       true,
		`{"type":"param_in_attribute","header":"x-customer","attribute":"assigned"}`: true,
		`{"type":"param_in_attribute","query":"customer","attribute":"assigned"}`:    true,
		`{"type":"param_in_attribute","query":"other","attribute":"assigned"}`:       false,
	} {
		if got := api(cond); got != want {
			t.Errorf("%s: %v, want %v", cond, got, want)
		}
	}
}

// TestParamInOrgAttribute: "of": "org" compares the request value with the
// organization's attribute, not the user's; the same policy in Rego reads
// input.user.org_attributes and decides alike.
func TestParamInOrgAttribute(t *testing.T) {
	rules := mustCompileJSON(t, `{"name":"regions","kind":"api_request","default":"deny","rules":[{"conditions":[
		{"type":"path","in":["/regions/{region}/**"]},
		{"type":"param_in_attribute","param":"region","attribute":"regions","of":"org"}],"action":"permit"}]}`)
	rego := mustCompileJSON(t, string(regoDoc(t, KindAPIRequest, `package portico
import rego.v1
decision := {"action": "permit"} if {
	parts := split(input.request.path, "/")
	count(parts) >= 3
	parts[1] == "regions"
	parts[2] in [trim_space(r) | some r in split(input.user.org_attributes.regions, ",")]
}`)))
	for _, c := range []struct {
		name     string
		org      map[string]string
		user     map[string]string
		path     string
		want     Action
		inReason string
	}{
		{"the organization's region", map[string]string{"regions": "eu, us"}, nil, "/regions/us/orders", Permit, "in the organization's regions"},
		{"another region", map[string]string{"regions": "eu,us"}, nil, "/regions/apac/orders", Deny, ""},
		{"the user's attribute does not count", nil, map[string]string{"regions": "apac"}, "/regions/apac/orders", Deny, ""},
		{"no attribute", map[string]string{}, nil, "/regions/eu", Deny, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := Request{Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), Org: "acme", Attributes: c.user, OrgAttributes: c.org,
				HTTP: HTTPRequest{Method: "GET", Path: c.path}}
			d := rules.Evaluate(&req)
			if d.Action != c.want || !strings.Contains(d.Reason, c.inReason) {
				t.Fatalf("rules: %s %q, want %s", d.Action, d.Reason, c.want)
			}
			if d := rego.Evaluate(&req); d.Action != c.want {
				t.Fatalf("rego: %s %q, want %s", d.Action, d.Reason, c.want)
			}
		})
	}
	_, err := CompileJSON([]byte(`{"name":"x","kind":"api_request","default":"deny","rules":[{"conditions":[{"type":"path","in":["/r/{id}"]},
		{"type":"param_in_attribute","param":"id","attribute":"a","of":"team"}],"action":"permit"}]}`))
	if err == nil || !strings.Contains(err.Error(), `rules[0].conditions[1].of: must be "user" or "org"`) {
		t.Fatalf("of team: %v", err)
	}
	if s := DescribeCondition(Condition{Type: CondParamInAttribute, Param: "region", Attribute: "regions", Of: "org"}); !strings.Contains(s, "organization's regions") {
		t.Fatalf("described as %q", s)
	}
}

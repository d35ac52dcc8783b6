package policyeditor

import (
	"net/netip"
	"testing"
)

// worstCaseJSON has 10 rules whose every condition but the last holds, so each
// rule does all its work before failing and the default decides: the most a
// decision can cost for a policy of this size.
const worstCaseJSON = `{"name":"worst case","kind":"user_access","default":"deny","rules":[
 {"conditions":[{"type":"ip","in":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","198.51.100.0/24","2001:db8::/32"]},{"type":"country","in":["DE","FR","BR","US"]},{"type":"org","in":["globex"]}],"action":"permit"},
 {"conditions":[{"type":"group","any_of":["a","b","c","d","e","f","g","h","i","contractors"]},{"type":"plan","in":["gold"]},{"type":"client","in":["other"]}],"action":"permit"},
 {"conditions":[{"type":"time","days":["mon","tue","wed","thu","fri"],"from":"22:00","to":"06:00","tz":"Europe/Berlin"},{"type":"org","in":["acme"]},{"type":"scope","any_of":["admin"]}],"action":"permit"},
 {"conditions":[{"type":"mfa","within":"15m"},{"type":"attribute","name":"department","in":["sales","support"]},{"type":"location","new":true,"negate":true}],"action":"challenge"},
 {"conditions":[{"type":"country","in":["BR"]},{"type":"time","from":"00:00","to":"12:00","tz":"America/Sao_Paulo","negate":true},{"type":"plan","in":["silver"]}],"action":"deny"},
 {"conditions":[{"type":"scope","any_of":["payments:write"]},{"type":"client","in":["inventory-sync"]},{"type":"group","any_of":["admins"]}],"action":"permit"},
 {"conditions":[{"type":"ip","in":["198.51.100.4"]},{"type":"org","in":["acme"]},{"type":"mfa","within":"1m"}],"action":"permit"},
 {"conditions":[{"type":"attribute","name":"department","in":["sales"]},{"type":"country","in":["BR"]},{"type":"ip","in":["203.0.113.0/24"]}],"action":"permit"},
 {"conditions":[{"type":"group","any_of":["contractors"]},{"type":"location","new":true},{"type":"time","days":["sat","sun"],"tz":"UTC"}],"action":"challenge"},
 {"conditions":[{"type":"plan","in":["gold"]},{"type":"org","in":["acme"]},{"type":"client","in":["billing"]}],"action":"permit"}
]}`

func designRequestValue(b testing.TB) Request {
	req, err := ParseRequest([]byte(designRequest), nil)
	if err != nil {
		b.Fatal(err)
	}
	return req
}

func BenchmarkEvaluate(b *testing.B) {
	ibm := mustCompileJSON(b, ibmJSON)
	worst := mustCompileJSON(b, worstCaseJSON)
	design := designRequestValue(b)
	remembered := design
	remembered.User.Locations = []netip.Prefix{prefix("192.0.2.0/24"), prefix("2001:db8:1::/48"),
		prefix("203.0.113.0/24"), prefix("100.64.0.0/24"), prefix("198.51.100.0/24")}
	if d := worst.Evaluate(&design); d.Rule != 0 {
		b.Fatalf("worst case decided by rule %d, want the default", d.Rule)
	}
	cases := []struct {
		name string
		p    *Policy
		req  Request
		want Action
	}{
		{"IBM/new location", ibm, design, Challenge},
		{"IBM/remembered location, 5 remembered", ibm, remembered, Permit},
		{"worst case 10 rules", worst, design, Deny},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req := c.req
			if d := c.p.Evaluate(&req); d.Action != c.want {
				b.Fatalf("got %+v, want %v", d, c.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.p.Evaluate(&req)
			}
		})
	}
	b.Run("IBM/after step-up", func(b *testing.B) {
		req := design
		b.ReportAllocs()
		for b.Loop() {
			ibm.AfterStepUp(&req)
		}
	})
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	ibm := mustCompileJSON(t, ibmJSON)
	worst := mustCompileJSON(t, worstCaseJSON)
	req := designRequestValue(t)
	for name, f := range map[string]func(){
		"IBM":               func() { ibm.Evaluate(&req) },
		"IBM after step-up": func() { ibm.AfterStepUp(&req) },
		"worst case":        func() { worst.Evaluate(&req) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per decision", name, n)
		}
	}
}

func BenchmarkIPLocLocator(b *testing.B) {
	var loc IPLocLocator
	for _, ip := range []string{"198.51.100.4", "2a00:1450:4001:80b::200e"} {
		a := addr(ip)
		loc.Country(a) // the IPv6 table is unpacked on first use
		b.Run(ip, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				loc.Country(a)
			}
		})
	}
}

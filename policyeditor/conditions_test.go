package policyeditor

import (
	"net/netip"
	"testing"
	"time"
)

func TestConditions(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		cond string
		req  Request
		want bool
	}{
		// group
		{"group: one of several", `{"type":"group","any_of":["contractors","developers"]}`, Request{User: User{Groups: []string{"staff", "developers"}}}, true},
		{"group: none", `{"type":"group","any_of":["contractors"]}`, Request{User: User{Groups: []string{"staff"}}}, false},
		{"group: case matters", `{"type":"group","any_of":["developers"]}`, Request{User: User{Groups: []string{"Developers"}}}, false},
		{"group: missing", `{"type":"group","any_of":["contractors"]}`, Request{}, false},
		{"group: missing, negated", `{"type":"group","any_of":["contractors"],"negate":true}`, Request{}, true},
		{"group: negated member", `{"type":"group","any_of":["contractors"],"negate":true}`, Request{User: User{Groups: []string{"contractors"}}}, false},
		{"group: long list uses map", `{"type":"group","any_of":["a","b","c","d","e","f","g","h","i","j"]}`, Request{User: User{Groups: []string{"j"}}}, true},

		// ip
		{"ip: first of range", `{"type":"ip","in":["9.0.0.0/24"]}`, Request{IP: addr("9.0.0.0")}, true},
		{"ip: last of range", `{"type":"ip","in":["9.0.0.0/24"]}`, Request{IP: addr("9.0.0.255")}, true},
		{"ip: just past range", `{"type":"ip","in":["9.0.0.0/24"]}`, Request{IP: addr("9.0.1.0")}, false},
		{"ip: just before range", `{"type":"ip","in":["9.0.0.0/24"]}`, Request{IP: addr("8.255.255.255")}, false},
		{"ip: single address", `{"type":"ip","in":["203.0.113.7"]}`, Request{IP: addr("203.0.113.7")}, true},
		{"ip: single address neighbour", `{"type":"ip","in":["203.0.113.7"]}`, Request{IP: addr("203.0.113.8")}, false},
		{"ip: IPv6 range", `{"type":"ip","in":["2001:db8::/32"]}`, Request{IP: addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")}, true},
		{"ip: IPv6 outside", `{"type":"ip","in":["2001:db8::/32"]}`, Request{IP: addr("2001:db9::")}, false},
		{"ip: IPv6 with zone", `{"type":"ip","in":["fe80::/10"]}`, Request{IP: addr("fe80::1%eth0")}, true},
		{"ip: IPv4-mapped request, IPv4 range", `{"type":"ip","in":["9.0.0.0/24"]}`, Request{IP: addr("::ffff:9.0.0.1")}, true},
		{"ip: IPv4 request, IPv4-mapped range", `{"type":"ip","in":["::ffff:9.0.0.0/120"]}`, Request{IP: addr("9.0.0.1")}, true},
		{"ip: IPv4 not in an IPv6 range", `{"type":"ip","in":["2001:db8::/32"]}`, Request{IP: addr("9.0.0.1")}, false},
		{"ip: 0.0.0.0/0 holds every IPv4", `{"type":"ip","in":["0.0.0.0/0"]}`, Request{IP: addr("255.255.255.255")}, true},
		{"ip: 0.0.0.0/0 not IPv6", `{"type":"ip","in":["0.0.0.0/0"]}`, Request{IP: addr("2001:db8::1")}, false},
		{"ip: ::/0 holds everything", `{"type":"ip","in":["::/0"]}`, Request{IP: addr("1.2.3.4")}, true},
		{"ip: overlapping ranges merge", `{"type":"ip","in":["10.0.0.0/8","10.1.0.0/16","11.0.0.0/8"]}`, Request{IP: addr("11.255.0.1")}, true},
		{"ip: host bits masked", `{"type":"ip","in":["10.0.0.1/24"]}`, Request{IP: addr("10.0.0.200")}, true},
		{"ip: missing", `{"type":"ip","in":["0.0.0.0/0"]}`, Request{}, false},
		{"ip: missing, negated", `{"type":"ip","in":["10.0.0.0/8"],"negate":true}`, Request{}, true},
		{"ip: outside, negated", `{"type":"ip","in":["10.0.0.0/8"],"negate":true}`, Request{IP: addr("11.0.0.1")}, true},

		// country
		{"country: listed", `{"type":"country","in":["DE","FR"]}`, Request{Country: "FR"}, true},
		{"country: not listed", `{"type":"country","in":["DE","FR"]}`, Request{Country: "BR"}, false},
		{"country: lower case request never matches", `{"type":"country","in":["DE"]}`, Request{Country: "de"}, false},
		{"country: missing", `{"type":"country","in":["DE"]}`, Request{}, false},
		{"country: missing, negated", `{"type":"country","in":["DE"],"negate":true}`, Request{}, true},
		{"country: last code", `{"type":"country","in":["ZW"]}`, Request{Country: "ZW"}, true},

		// location
		{"location: new", `{"type":"location","new":true}`, Request{IP: addr("198.51.100.4"), User: User{Locations: []netip.Prefix{prefix("203.0.113.0/24")}}}, true},
		{"location: remembered", `{"type":"location","new":true}`, Request{IP: addr("203.0.113.200"), User: User{Locations: []netip.Prefix{prefix("203.0.113.0/24")}}}, false},
		{"location: remembered as an address", `{"type":"location","new":true}`, Request{IP: addr("203.0.113.200"), User: User{Locations: []netip.Prefix{prefix("203.0.113.9/32")}}}, false},
		{"location: neighbouring /24 is new", `{"type":"location","new":true}`, Request{IP: addr("203.0.114.1"), User: User{Locations: []netip.Prefix{prefix("203.0.113.0/24")}}}, true},
		{"location: IPv4-mapped request", `{"type":"location","new":true}`, Request{IP: addr("::ffff:203.0.113.5"), User: User{Locations: []netip.Prefix{prefix("203.0.113.0/24")}}}, false},
		{"location: IPv4-mapped remembered", `{"type":"location","new":true}`, Request{IP: addr("203.0.113.5"), User: User{Locations: []netip.Prefix{prefix("::ffff:203.0.113.0/120")}}}, false},
		{"location: IPv6 same /48", `{"type":"location","new":true}`, Request{IP: addr("2001:db8:1:ffff::1"), User: User{Locations: []netip.Prefix{prefix("2001:db8:1::/48")}}}, false},
		{"location: IPv6 other /48", `{"type":"location","new":true}`, Request{IP: addr("2001:db8:2::1"), User: User{Locations: []netip.Prefix{prefix("2001:db8:1::/48")}}}, true},
		{"location: nothing remembered", `{"type":"location","new":true}`, Request{IP: addr("203.0.113.5")}, true},
		{"location: no IP", `{"type":"location","new":true}`, Request{}, false},
		{"location: no IP, negated", `{"type":"location","new":true,"negate":true}`, Request{}, true},

		// org, plan, client, attribute, scope
		{"org: listed", `{"type":"org","in":["acme","globex"]}`, Request{Org: "globex"}, true},
		{"org: other", `{"type":"org","in":["acme"]}`, Request{Org: "globex"}, false},
		{"org: missing, negated", `{"type":"org","in":["acme"],"negate":true}`, Request{}, true},
		{"plan: listed", `{"type":"plan","in":["gold"]}`, Request{Plan: "gold"}, true},
		{"plan: missing", `{"type":"plan","in":["gold"]}`, Request{}, false},
		{"client: listed", `{"type":"client","in":["inventory-sync"]}`, Request{Client: Client{ID: "inventory-sync"}}, true},
		{"client: other", `{"type":"client","in":["inventory-sync"]}`, Request{Client: Client{ID: "billing"}}, false},
		{"attribute: value listed", `{"type":"attribute","name":"department","in":["sales","support"]}`, Request{Attributes: map[string]string{"department": "sales"}}, true},
		{"attribute: other value", `{"type":"attribute","name":"department","in":["sales"]}`, Request{Attributes: map[string]string{"department": "it"}}, false},
		{"attribute: absent", `{"type":"attribute","name":"department","in":["sales"]}`, Request{Attributes: map[string]string{"team": "sales"}}, false},
		{"attribute: absent, negated", `{"type":"attribute","name":"department","in":["sales"],"negate":true}`, Request{}, true},
		{"attribute: empty value is a value", `{"type":"attribute","name":"department","in":["sales"],"negate":true}`, Request{Attributes: map[string]string{"department": ""}}, true},
		{"scope: any requested", `{"type":"scope","any_of":["payments:write","admin"]}`, Request{Client: Client{Scopes: []string{"openid", "payments:write"}}}, true},
		{"scope: none requested", `{"type":"scope","any_of":["payments:write"]}`, Request{Client: Client{Scopes: []string{"openid"}}}, false},
		{"scope: missing, negated", `{"type":"scope","any_of":["payments:write"],"negate":true}`, Request{}, true},

		// mfa
		{"mfa: fresh", `{"type":"mfa","within":"15m"}`, Request{Now: now, User: User{MFAAt: now.Add(-10 * time.Minute)}}, true},
		{"mfa: exactly at the limit", `{"type":"mfa","within":"15m"}`, Request{Now: now, User: User{MFAAt: now.Add(-15 * time.Minute)}}, true},
		{"mfa: just too old", `{"type":"mfa","within":"15m"}`, Request{Now: now, User: User{MFAAt: now.Add(-15*time.Minute - time.Nanosecond)}}, false},
		{"mfa: slightly in the future", `{"type":"mfa","within":"15m"}`, Request{Now: now, User: User{MFAAt: now.Add(time.Second)}}, true},
		{"mfa: never", `{"type":"mfa","within":"15m"}`, Request{Now: now}, false},
		{"mfa: never, negated", `{"type":"mfa","within":"15m","negate":true}`, Request{Now: now}, true},
		{"mfa: no clock", `{"type":"mfa","within":"15m"}`, Request{User: User{MFAAt: now}}, false},

		// time (more in timewindow_test.go)
		{"time: inside", `{"type":"time","days":["mon"],"from":"08:00","to":"18:00","tz":"UTC"}`, Request{Now: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}, true},
		{"time: no clock", `{"type":"time","days":["mon"],"tz":"UTC"}`, Request{}, false},
		{"time: no clock, negated", `{"type":"time","days":["mon"],"tz":"UTC","negate":true}`, Request{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := matches(t, tc.cond, tc.req); got != tc.want {
				t.Fatalf("%s on %+v = %v, want %v", tc.cond, tc.req, got, tc.want)
			}
		})
	}
}

func TestFirstMatchDecides(t *testing.T) {
	p := mustCompileJSON(t, `{"name":"order","kind":"user_access","default":"challenge","rules":[
		{"name":"block BR","conditions":[{"type":"country","in":["BR"]}],"action":"deny"},
		{"name":"staff","conditions":[{"type":"group","any_of":["staff"]}],"action":"permit"},
		{"name":"staff from DE","conditions":[{"type":"group","any_of":["staff"]},{"type":"country","in":["DE"]}],"action":"deny"}]}`)
	tests := []struct {
		name       string
		req        Request
		wantAction Action
		wantRule   int
	}{
		{"earlier deny wins over later permit", Request{Country: "BR", User: User{Groups: []string{"staff"}}}, Deny, 1},
		{"second rule shadows the third", Request{Country: "DE", User: User{Groups: []string{"staff"}}}, Permit, 2},
		{"default when nothing matches", Request{Country: "DE"}, Challenge, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Evaluate(&tc.req)
			if d.Action != tc.wantAction || d.Rule != tc.wantRule {
				t.Fatalf("got %+v, want %v by rule %d", d, tc.wantAction, tc.wantRule)
			}
			if d.Reason == "" {
				t.Fatal("no reason")
			}
		})
	}
}

func TestAllConditionsMustHold(t *testing.T) {
	cond := `{"type":"group","any_of":["staff"]},{"type":"country","in":["DE"]}`
	if matches(t, cond, Request{User: User{Groups: []string{"staff"}}, Country: "FR"}) {
		t.Fatal("rule matched with one of two conditions false")
	}
	if !matches(t, cond, Request{User: User{Groups: []string{"staff"}}, Country: "DE"}) {
		t.Fatal("rule did not match with both conditions true")
	}
}

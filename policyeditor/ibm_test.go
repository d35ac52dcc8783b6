package policyeditor

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// remember is what the caller does after a passed step-up: keep the location,
// most recent first, at most 5.
func remember(locs []netip.Prefix, ip netip.Addr) []netip.Prefix {
	loc := LocationOf(ip)
	locs = slices.DeleteFunc(slices.Clone(locs), func(p netip.Prefix) bool { return p == loc })
	locs = append([]netip.Prefix{loc}, locs...)
	if len(locs) > 5 {
		locs = locs[:5]
	}
	return locs
}

// signIn plays one sign-in through IBM's policy: evaluate, and on Challenge step
// up (which the user always passes here) and evaluate again. It returns the final
// decision, whether the user was challenged, and the remembered locations after.
func signIn(t *testing.T, p *Policy, req Request) (Decision, bool, []netip.Prefix) {
	t.Helper()
	d := p.Evaluate(&req)
	if d.Action != Challenge {
		return d, false, req.User.Locations
	}
	after := p.AfterStepUp(&req)
	if after.Action == Challenge {
		t.Fatalf("AfterStepUp returned a second challenge: %+v", after)
	}
	if after.Action == Permit {
		req.User.Locations = remember(req.User.Locations, req.IP)
	}
	return after, true, req.User.Locations
}

func TestIBMExample(t *testing.T) {
	p := mustCompileJSON(t, ibmJSON)
	day := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	office := addr("9.0.0.17")

	t.Run("in-house developer steps up once, then is let in from the office unchallenged", func(t *testing.T) {
		user := User{Groups: []string{"developers"}}
		d, challenged, locs := signIn(t, p, Request{Now: day, IP: office, User: user})
		if !challenged || d.Action != Permit || d.Rule != 2 {
			t.Fatalf("first sign-in: %+v challenged=%v, want permit after challenge", d, challenged)
		}
		user.Locations = locs
		for i := 1; i <= 3; i++ {
			d, challenged, _ = signIn(t, p, Request{Now: day.Add(time.Duration(i) * 24 * time.Hour), IP: addr("9.0.0.99"), User: user})
			if challenged || d.Action != Permit || d.Rule != 2 {
				t.Fatalf("day %d: %+v challenged=%v, want permit by rule 2 without challenge", i, d, challenged)
			}
		}
	})

	t.Run("contractor challenged at every new location, not at a remembered one", func(t *testing.T) {
		user := User{Groups: []string{"contractors"}}
		sites := []string{"198.51.100.4", "203.0.113.9", "192.0.2.1", "2001:db8:1::5", "::ffff:100.64.1.1", "100.64.2.1"}
		for i, s := range sites {
			d, challenged, locs := signIn(t, p, Request{Now: day, IP: addr(s), User: user})
			if !challenged || d.Action != Permit {
				t.Fatalf("new site %d (%s): %+v challenged=%v", i, s, d, challenged)
			}
			user.Locations = locs
		}
		// The five most recent sites are remembered; the first was dropped.
		for _, s := range sites[1:] {
			if d, challenged, _ := signIn(t, p, Request{Now: day, IP: addr(s), User: user}); challenged || d.Action != Permit || d.Rule != 2 {
				t.Fatalf("back at %s: %+v challenged=%v, want permit unchallenged", s, d, challenged)
			}
		}
		if _, challenged, _ := signIn(t, p, Request{Now: day, IP: addr(sites[0]), User: user}); !challenged {
			t.Fatal("least recently used location should have been forgotten")
		}
	})

	t.Run("user in neither group is denied even after MFA", func(t *testing.T) {
		user := User{Groups: []string{"sales"}, MFAAt: day}
		d, challenged, locs := signIn(t, p, Request{Now: day, IP: office, User: user})
		if !challenged || d.Action != Deny || d.Rule != 0 {
			t.Fatalf("got %+v challenged=%v, want deny by default after challenge", d, challenged)
		}
		if len(locs) != 0 {
			t.Fatal("a denied user's location must not be remembered")
		}
		user.Locations = []netip.Prefix{LocationOf(office)}
		if d := p.Evaluate(&Request{Now: day, IP: office, User: user}); d.Action != Deny {
			t.Fatalf("at a remembered location: %+v, want deny", d)
		}
	})

	t.Run("no address is missing data: not new, so no challenge", func(t *testing.T) {
		d := p.Evaluate(&Request{Now: day, User: User{Groups: []string{"developers"}}})
		if d.Action != Permit || d.Rule != 2 {
			t.Fatalf("got %+v", d)
		}
	})
}

func TestStepUpNeverAdmitsTheDenied(t *testing.T) {
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		doc    string
		req    Request
		first  Action
		second Action
	}{
		{
			"MFA rule then default deny",
			`{"name":"t","kind":"user_access","default":"deny","rules":[
				{"conditions":[{"type":"mfa","within":"15m","negate":true}],"action":"challenge"}]}`,
			Request{Now: now}, Challenge, Deny,
		},
		{
			"earlier deny still applies after step-up",
			`{"name":"t","kind":"user_access","default":"permit","rules":[
				{"conditions":[{"type":"country","in":["BR"]}],"action":"deny"},
				{"conditions":[{"type":"location","new":true}],"action":"challenge"}]}`,
			Request{Now: now, IP: addr("198.51.100.4"), Country: "BR"}, Deny, Deny,
		},
		{
			"second challenge counts as met",
			`{"name":"t","kind":"user_access","default":"deny","rules":[
				{"conditions":[{"type":"group","any_of":["admins"]}],"action":"challenge"}]}`,
			Request{Now: now, User: User{Groups: []string{"admins"}}}, Challenge, Permit,
		},
		{
			"default challenge counts as met",
			`{"name":"t","kind":"user_access","default":"challenge","rules":[]}`,
			Request{Now: now}, Challenge, Permit,
		},
		{
			"MFA then group",
			`{"name":"t","kind":"user_access","default":"deny","rules":[
				{"conditions":[{"type":"mfa","within":"5m","negate":true}],"action":"challenge"},
				{"conditions":[{"type":"group","any_of":["staff"]}],"action":"permit"}]}`,
			Request{Now: now, User: User{Groups: []string{"staff"}, MFAAt: now.Add(-time.Hour)}}, Challenge, Permit,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompileJSON(t, tc.doc)
			if d := p.Evaluate(&tc.req); d.Action != tc.first {
				t.Fatalf("Evaluate = %+v, want %v", d, tc.first)
			}
			if d := p.AfterStepUp(&tc.req); d.Action != tc.second {
				t.Fatalf("AfterStepUp = %+v, want %v", d, tc.second)
			}
			if tc.req.User.MFAAt.Equal(now) {
				t.Fatal("AfterStepUp modified the request")
			}
		})
	}
}

package policyeditor_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// TestResolvedPreviewAnswersAsDecide: a policy resolved once answers each
// evaluation that meets it as Decide does — action, rule, blame, policy and
// version — before and after step-up, and with nothing attached it does
// not apply.
func TestResolvedPreviewAnswersAsDecide(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	eng := policyeditor.NewEngine(st, nil)
	svc := &policyeditor.Service{Store: st}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	ev := func(groups []string, ip string, stepUp bool) *policyeditor.Evaluation {
		return &policyeditor.Evaluation{Point: policyeditor.PointLaunch, OrgID: "org-a", UserID: "u1", Subject: "ann@example.com",
			ClientID: "wiki", StepUp: stepUp, Request: policyeditor.Request{Now: now, IP: netip.MustParseAddr(ip),
				User: policyeditor.User{Groups: groups, Locations: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}}
	}
	if r, err := eng.Resolve(ctx, ev(nil, "198.51.100.4", false)); err != nil || r.Applied() || r.Preview(ev(nil, "198.51.100.4", false)).Applied {
		t.Fatalf("nothing attached: %v %v", err, r.Applied())
	}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, admin, s.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	r, err := eng.Resolve(ctx, ev(nil, "198.51.100.4", false))
	if err != nil || !r.Applied() {
		t.Fatalf("resolve: %v %v", err, r.Applied())
	}
	for _, e := range []*policyeditor.Evaluation{
		ev([]string{"developers"}, "198.51.100.4", false), // known place: permit
		ev([]string{"developers"}, "203.0.113.9", false),  // new place: challenge
		ev([]string{"developers"}, "203.0.113.9", true),   // after step-up
		ev([]string{"sales"}, "198.51.100.4", false),      // not in the groups: deny
		ev(nil, "203.0.113.9", true),
	} {
		want, err := eng.Decide(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		got := r.Preview(e)
		if got.Action != want.Action || got.Rule != want.Rule || got.Blame != want.Blame || !got.Applied ||
			got.PolicyID != want.PolicyID || got.Version != want.Version || got.DecisionID != "" {
			t.Errorf("groups %v from %s (step-up %v): preview %+v, decide %+v", e.Request.User.Groups, e.Request.IP, e.StepUp, got, want)
		}
	}
}

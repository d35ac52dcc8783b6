package policyeditor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// launchEval is a launch of app wiki by user n of org-a with these facts.
func launchEval(now time.Time, n int, ip string, groups []string, methods map[string]time.Time, stepUp bool) *policyeditor.Evaluation {
	return &policyeditor.Evaluation{Point: policyeditor.PointLaunch, OrgID: "org-a", UserID: fmt.Sprintf("u%d", n),
		Subject: fmt.Sprintf("user%d@example.com", n), ClientID: "wiki", StepUp: stepUp,
		Request: policyeditor.Request{Now: now, IP: netip.MustParseAddr(ip), Country: "US", Org: "acme",
			User: policyeditor.User{Groups: groups, AuthMethods: methods, ConnectionID: "conn-1",
				Locations: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}},
			Client: policyeditor.Client{ID: "wiki", Type: "web", Scopes: []string{"openid"}}}}
}

// strictJSON is IBM's example without contractors, and a passkey (hwk)
// used in the last hour required of developers on a new network.
const strictJSON = `{"name":"Development portal access","kind":"user_access","default":"deny","rules":[
 {"name":"New location needs a passkey","conditions":[{"type":"location","new":true},{"type":"auth_method","any_of":["hwk"],"within":"1h","negate":true}],"action":"challenge"},
 {"name":"Developers","conditions":[{"type":"group","any_of":["developers"]},{"type":"connection","in":["conn-1"]},{"type":"client_type","in":["web"]}],"action":"permit"}]}`

// TestReplayAndShadow records real decisions through the engine, replays a
// stricter draft over them and checks every decision it says would change
// against the log, then attaches the draft in report-only mode and checks
// that the shadow's decisions are logged and counted, and promotes it.
func TestReplayAndShadow(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	defer rec.Close()
	eng := policyeditor.NewEngine(st, rec)
	svc := &policyeditor.Service{Store: st}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		t.Fatal(err)
	}
	id := s.Policy.ID
	if err := svc.Attach(ctx, admin, id, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	// Developers and contractors, from a remembered and a new network, with
	// and without a recent passkey.
	type launch struct {
		n      int
		ip     string
		groups []string
		hwk    bool
		stepUp bool
	}
	launches := []launch{
		{1, "198.51.100.7", []string{"developers"}, false, false},  // permit → permit
		{2, "198.51.100.8", []string{"contractors"}, false, false}, // permit → deny
		{3, "203.0.113.9", []string{"developers"}, true, false},    // challenge → permit (passkey)
		{4, "203.0.113.9", []string{"developers"}, false, false},   // challenge → challenge
		{5, "203.0.113.9", []string{"contractors"}, false, true},   // stepped up: permit → deny
		{6, "198.51.100.9", []string{"sales"}, false, false},       // deny → deny
	}
	recorded := map[string]launch{}
	for i, l := range launches {
		methods := map[string]time.Time{"pwd": now.Add(-2 * time.Hour)}
		if l.hwk {
			methods["hwk"] = now.Add(-10 * time.Minute)
		}
		out, err := eng.Decide(ctx, launchEval(now.Add(time.Duration(i)*time.Second), l.n, l.ip, l.groups, methods, l.stepUp))
		if err != nil || !out.Applied {
			t.Fatal(err, out)
		}
		recorded[out.DecisionID] = l
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	strict, err := policyeditor.CompileJSON([]byte(strictJSON))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := policyeditor.Replay(ctx, st, strict, policyeditor.ReplayOptions{Since: now.Add(-time.Minute), PolicyID: id})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replayed != 6 || rep.Changed != 3 || rep.Truncated {
		t.Fatalf("replay: %+v", rep)
	}
	want := map[[2]string]int{{"permit", "deny"}: 2, {"challenge", "permit"}: 1, {"permit", "permit"}: 1,
		{"challenge", "challenge"}: 1, {"deny", "deny"}: 1}
	for k, n := range want {
		if got := rep.Cell(k[0], k[1]).Count; got != n {
			t.Errorf("cell %v: %d, want %d (%+v)", k, got, n, rep.Matrix)
		}
	}
	// Every sample is a logged decision, of the person the table above says.
	for _, c := range rep.Matrix {
		for _, smp := range c.Samples {
			l, ok := recorded[smp.DecisionID]
			d, err := st.Decision(ctx, "", smp.DecisionID)
			if !ok || err != nil || d.Action != smp.Before || d.UserID != fmt.Sprintf("u%d", l.n) {
				t.Errorf("sample %+v: logged %+v %v", smp, d, err)
			}
			if c.To == "deny" && l.groups[0] != "contractors" {
				t.Errorf("would deny %+v", l)
			}
		}
	}
	if len(rep.People) != 3 || len(rep.Apps) != 1 || rep.Apps[0] != (policyeditor.Affected{Key: "wiki", Changed: 3}) {
		t.Errorf("affected: %+v %+v", rep.People, rep.Apps)
	}
	// The limit stops the scan and says so.
	if r, _ := policyeditor.Replay(ctx, st, strict, policyeditor.ReplayOptions{Since: now.Add(-time.Minute), PolicyID: id, Limit: 2}); !r.Truncated || r.Replayed != 2 || r.StoppedAt.IsZero() {
		t.Errorf("limited: %+v", r)
	}

	// Report-only: the strict version beside the enforced one.
	doc, err := policyeditor.ParseDocument([]byte(strictJSON))
	if err != nil {
		t.Fatal(err)
	}
	sh, err := svc.SaveShadow(ctx, admin, id, doc, "stricter")
	if err != nil || sh.Version.Version != 2 || sh.Policy.CurrentVersion != 1 || sh.Policy.ShadowVersion != 2 {
		t.Fatalf("shadow: %v %+v", err, sh)
	}
	out, err := eng.Decide(ctx, launchEval(time.Now().UTC(), 2, "198.51.100.8", []string{"contractors"}, nil, false))
	if err != nil || out.Action != policyeditor.Permit || out.Version != 1 || out.ShadowVersion != 2 || out.Shadow.Action != policyeditor.Deny {
		t.Fatalf("shadowed decision: %v %+v", err, out)
	}
	if _, err := eng.Decide(ctx, launchEval(time.Now().UTC(), 1, "198.51.100.7", []string{"developers"}, nil, false)); err != nil {
		t.Fatal(err)
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := st.Decision(ctx, "", out.DecisionID); err != nil || d.ShadowAction != "deny" || d.ShadowVersion != 2 || d.ShadowRule != 0 {
		t.Fatalf("logged shadow: %v %+v", err, d)
	}
	p, _ := st.Policy(ctx, id)
	dis, err := svc.Disagreements(ctx, p)
	if err != nil || dis.Total != 2 || dis.Disagreed != 1 || len(dis.Cells) != 1 || dis.Cells[0].Enforced != "permit" ||
		dis.Cells[0].Shadow != "deny" || len(dis.Where) != 1 || dis.Where[0].ClientID != "wiki" || dis.Where[0].Point != "launch" {
		t.Fatalf("disagreements: %v %+v", err, dis)
	}
	// A saved version gets the next number, past the shadow.
	if s3, err := svc.Save(ctx, admin, id, 1, ibmDoc(t), ""); err != nil || s3.Version.Version != 3 || s3.Policy.ShadowVersion != 2 {
		t.Fatalf("save beside a shadow: %v %+v", err, s3)
	}
	if _, err := svc.Promote(ctx, admin, id, 3); !errors.Is(err, policyeditor.ErrNotShadow) {
		t.Fatalf("promote a version not in report-only mode: %v", err)
	}
	after, err := svc.Promote(ctx, admin, id, 2)
	if err != nil || after.CurrentVersion != 2 || after.ShadowVersion != 0 {
		t.Fatalf("promote: %v %+v", err, after)
	}
	if _, err := svc.Promote(ctx, admin, id, 2); !errors.Is(err, policyeditor.ErrNotShadow) {
		t.Fatalf("second promote: %v", err)
	}
	out, err = eng.Decide(ctx, launchEval(time.Now().UTC(), 2, "198.51.100.8", []string{"contractors"}, nil, false))
	if err != nil || out.Action != policyeditor.Deny || out.Version != 2 || out.ShadowVersion != 0 {
		t.Fatalf("after promote: %v %+v", err, out)
	}
	evs, err := st.AuditEvents(ctx, store.AuditFilter{Limit: 50})
	promoted := 0
	for _, e := range evs {
		if e.Action == "policy.promote" && e.TargetID == id {
			promoted++
		}
	}
	if err != nil || promoted != 1 {
		t.Fatalf("promote audit: %v %d", err, promoted)
	}
}

// jsonContext is the context column the recorder writes for req.
func jsonContext(req *policyeditor.Request) ([]byte, error) {
	return json.Marshal(policyeditor.ContextOf(req, false))
}

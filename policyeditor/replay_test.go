package policyeditor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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

// everyFactJSON has a rule per fact the log must keep, each deciding
// differently from its neighbours, so a fact lost on the way to the log
// shows up as a changed decision on replay.
const everyFactJSON = `{"name":"every fact","kind":"user_access","default":"deny","rules":[
 {"conditions":[{"type":"partnership","ends_within":"30d"}],"action":"deny"},
 {"conditions":[{"type":"auth_method","any_of":["hwk"],"within":"15m"}],"action":"permit"},
 {"conditions":[{"type":"mfa","within":"20m"}],"action":"challenge"},
 {"conditions":[{"type":"connection","in":["conn-2"]}],"action":"permit"},
 {"conditions":[{"type":"client_type","in":["spa"]}],"action":"deny"},
 {"conditions":[{"type":"issuer","in":["https://idp.partner.example"]}],"action":"permit"},
 {"conditions":[{"type":"attribute","name":"department","in":["sales"]}],"action":"challenge"},
 {"conditions":[{"type":"scope","any_of":["admin"]}],"action":"deny"},
 {"conditions":[{"type":"location","new":true}],"action":"challenge"},
 {"conditions":[{"type":"country","in":["BR"]}],"action":"deny"},
 {"conditions":[{"type":"time","from":"00:00","to":"06:00","tz":"UTC"}],"action":"challenge"},
 {"conditions":[{"type":"client","in":["app-3"]}],"action":"deny"},
 {"conditions":[{"type":"plan","in":["gold"]}],"action":"challenge"},
 {"conditions":[{"type":"group","any_of":["developers"]}],"action":"permit"}]}`

// TestReplayKeepsEveryFact records decisions of many shapes through the
// engine and replays the very version that made them: every one must come
// out the same, which holds only if the log kept every fact it read.
func TestReplayKeepsEveryFact(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	defer rec.Close()
	eng := policyeditor.NewEngine(st, rec)
	svc := &policyeditor.Service{Store: st}
	doc, err := policyeditor.ParseDocument([]byte(everyFactJSON))
	if err != nil {
		t.Fatal(err)
	}
	s, err := svc.Save(ctx, admin, "", 0, doc, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, admin, s.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(p float64) bool { return r.Float64() < p }
	now := time.Now().UTC().Add(-2 * time.Hour)
	rules := map[int]int{}
	const n = 600
	for i := 0; i < n; i++ {
		at := now.Add(time.Duration(i) * 7 * time.Second).Add(time.Duration(r.IntN(1000)) * time.Microsecond)
		req := policyeditor.Request{Now: at, IP: netip.AddrFrom4([4]byte{198, 51, 100, byte(r.IntN(256))}), Country: "US",
			Org: "acme", Plan: "silver",
			User: policyeditor.User{Groups: []string{"sales"}, ConnectionID: "conn-1",
				Locations: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}},
			Client: policyeditor.Client{ID: "app-1", Type: "web", Scopes: []string{"openid"}}}
		if pick(0.1) {
			req.ValidUntil = at.Add(time.Duration(r.IntN(60*24)) * time.Hour)
		}
		if pick(0.2) {
			req.User.AuthMethods = map[string]time.Time{"pwd": at.Add(-time.Hour), "hwk": at.Add(-time.Duration(r.IntN(30)) * time.Minute)}
		}
		if pick(0.2) {
			req.User.MFAAt = at.Add(-time.Duration(r.IntN(40)) * time.Minute)
		}
		if pick(0.1) {
			req.User.ConnectionID = "conn-2"
		}
		if pick(0.1) {
			req.Client.Type = "spa"
		}
		if pick(0.1) {
			req.Issuer = "https://idp.partner.example"
		}
		if pick(0.1) {
			req.Attributes = map[string]string{"department": "sales"}
		}
		if pick(0.1) {
			req.Client.Scopes = []string{"openid", "admin"}
		}
		if pick(0.1) {
			req.IP = netip.AddrFrom4([4]byte{203, 0, 113, byte(r.IntN(256))})
		}
		if pick(0.1) {
			req.Country = "BR"
		}
		if pick(0.1) {
			req.Client.ID = "app-3"
		}
		if pick(0.1) {
			req.Plan = "gold"
		}
		if pick(0.3) {
			req.User.Groups = []string{"developers"}
		}
		ev := &policyeditor.Evaluation{Point: policyeditor.PointAuthorize, OrgID: "o", UserID: "u", Subject: "s@example.com",
			ClientID: req.Client.ID, StepUp: pick(0.1), Request: req}
		out, err := eng.Decide(ctx, ev)
		if err != nil || !out.Applied {
			t.Fatal(err, out)
		}
		rules[out.Rule]++
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rules) < 12 {
		t.Fatalf("only rules %v decided; the sample does not exercise every fact", rules)
	}
	pol, err := policyeditor.CompileJSON([]byte(everyFactJSON))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := policyeditor.Replay(ctx, st, pol, policyeditor.ReplayOptions{Since: now.Add(-time.Minute), PolicyID: s.Policy.ID})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replayed != n || rep.Changed != 0 {
		for _, c := range rep.Matrix {
			for _, smp := range c.Samples {
				d, _ := st.Decision(ctx, "", smp.DecisionID)
				t.Logf("%+v\n%s", smp, d.Context)
			}
		}
		t.Fatalf("replaying the deciding version: %d of %d changed", rep.Changed, rep.Replayed)
	}
}

// TestShadowTallyCountsOnlyWhatIsNew: the page's tally keeps the counts
// older than a minute and recounts only the last minute.
func TestShadowTallyCountsOnlyWhatIsNew(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	svc := &policyeditor.Service{Store: st}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := policyeditor.ParseDocument([]byte(strictJSON))
	sh, err := svc.SaveShadow(ctx, admin, s.Policy.ID, doc, "")
	if err != nil {
		t.Fatal(err)
	}
	p := sh.Policy
	since := p.ShadowSince
	add := func(after time.Duration, shadow string) {
		t.Helper()
		if _, err := st.InsertDecisions(ctx, []store.Decision{{At: since.Add(after), Point: "launch", ClientID: "wiki",
			PolicyID: p.ID, PolicyVersion: 1, Rule: 2, Action: "permit", Reason: "r", ShadowVersion: 2, ShadowAction: shadow, ShadowReason: "s"}}); err != nil {
			t.Fatal(err)
		}
	}
	var tally policyeditor.ShadowTally
	check := func(now time.Duration, total, disagreed int64) {
		t.Helper()
		d, err := tally.Disagreements(ctx, st, p, since.Add(now))
		if err != nil || d.Total != total || d.Disagreed != disagreed {
			t.Fatalf("at +%v: %v %d/%d, want %d/%d", now, err, d.Disagreed, d.Total, disagreed, total)
		}
	}
	add(time.Minute, "deny")
	add(9*time.Minute+30*time.Second, "permit")
	check(10*time.Minute, 2, 1)
	add(9*time.Minute+45*time.Second, "deny") // within the last minute: counted
	check(10*time.Minute, 3, 2)
	add(2*time.Minute, "deny") // settled and kept: not read again
	check(10*time.Minute, 3, 2)
	add(15*time.Minute, "deny")
	check(20*time.Minute, 4, 3)
	// A full count sees everything.
	if d, err := svc.Disagreements(ctx, p); err != nil || d.Total != 5 || d.Disagreed != 4 {
		t.Fatalf("full count: %v %+v", err, d)
	}
}

package policyeditor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/policyeditor"
	"portico/store"
	"portico/store/storetest"
)

const ibm = `{
  "name": "Development portal access",
  "description": "IBM's example",
  "kind": "user_access",
  "rules": [
    {"name": "New location needs MFA", "conditions": [{"type": "location", "new": true}], "action": "challenge"},
    {"name": "Developers and contractors", "conditions": [{"type": "group", "any_of": ["contractors", "developers"]}], "action": "permit"}
  ],
  "default": "deny"
}`

var admin = store.Actor{UserID: "u-admin", Label: "admin@example.com"}

func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := storetest.DSN(t)
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func ibmDoc(t *testing.T) policyeditor.Document {
	t.Helper()
	doc, err := policyeditor.ParseDocument([]byte(ibm))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSaveVersionsRestoreDiff(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	svc := &policyeditor.Service{Store: st}
	doc := ibmDoc(t)
	s1, err := svc.Save(ctx, admin, "", 0, doc, "")
	if err != nil || !s1.Created || s1.Version.Version != 1 {
		t.Fatalf("create: %v %+v", err, s1)
	}
	id := s1.Policy.ID

	bad := doc
	bad.Rules = append([]policyeditor.Rule{}, doc.Rules...)
	bad.Rules[1] = policyeditor.Rule{Action: policyeditor.Permit, Conditions: []policyeditor.Condition{{Type: "ip", In: []string{"10.0.0.0/33"}}}}
	_, err = svc.Save(ctx, admin, id, 1, bad, "")
	var fe policyeditor.FieldErrors
	if !errors.As(err, &fe) || len(fe.For("rules[1].conditions[0].in[0]")) != 1 {
		t.Fatalf("invalid doc: want a field error on in[0], got %v", err)
	}
	if vs, _ := st.PolicyVersions(ctx, id); len(vs) != 1 {
		t.Fatalf("an invalid document stored a version: %d versions", len(vs))
	}

	doc2 := doc
	doc2.Rules = append([]policyeditor.Rule{}, doc.Rules...)
	doc2.Rules[1].Conditions = []policyeditor.Condition{{Type: "group", AnyOf: []string{"developers"}}}
	s2, err := svc.Save(ctx, admin, id, 1, doc2, "")
	if err != nil || s2.Version.Version != 2 {
		t.Fatalf("save 2: %v", err)
	}
	if _, err := svc.Save(ctx, admin, id, 1, doc, ""); !errors.Is(err, policyeditor.ErrConflict) {
		t.Fatalf("stale save: %v", err)
	}
	diff, err := svc.Diff(ctx, id, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	u := policyeditor.Unified(diff)
	if !strings.Contains(u, "-            \"contractors\",") || !strings.Contains(u, " \"developers\"") {
		t.Fatalf("diff:\n%s", u)
	}
	s3, err := svc.Restore(ctx, admin, id, 1)
	if err != nil || s3.Version.Version != 3 || s3.Version.Note != "restored from version 1" {
		t.Fatalf("restore: %v %+v", err, s3.Version)
	}
	_, _, cur, err := svc.Current(ctx, id)
	if err != nil || len(cur.Rules[1].Conditions[0].AnyOf) != 2 {
		t.Fatalf("restored content: %v %+v", err, cur)
	}
	if d, _ := svc.Diff(ctx, id, 1, 3); strings.ContainsAny(policyeditor.Unified(d)[:1], "+-") {
		t.Fatalf("restored version differs from version 1")
	}
	events, _ := st.AuditEvents(ctx, store.AuditFilter{})
	if len(events) != 3 || events[0].Actor != admin.Label {
		t.Fatalf("audit: %d events", len(events))
	}
}

func TestImportExport(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	svc := &policyeditor.Service{Store: st}
	s1, err := svc.Import(ctx, admin, []byte(ibm))
	if err != nil || !s1.Created {
		t.Fatalf("import: %v", err)
	}
	out, err := svc.Export(ctx, s1.Policy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policyeditor.CompileJSON(out); err != nil {
		t.Fatalf("export does not compile: %v\n%s", err, out)
	}
	s2, err := svc.Import(ctx, admin, out)
	if err != nil || s2.Created || s2.Policy.ID != s1.Policy.ID || s2.Version.Version != 2 {
		t.Fatalf("re-import should add a version: %v %+v", err, s2)
	}
	_, err = svc.Import(ctx, admin, []byte(`{"name":"x","kind":"user_access","rules":[],"default":"maybe","extra":1}`))
	var fe policyeditor.FieldErrors
	if !errors.As(err, &fe) || len(fe.For("default")) == 0 || len(fe.For("extra")) == 0 {
		t.Fatalf("bad import: %v", err)
	}
	if ps, _ := st.Policies(ctx); len(ps) != 1 {
		t.Fatalf("bad import stored something: %d policies", len(ps))
	}
}

func TestAttachChecksKind(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	svc := &policyeditor.Service{Store: st}
	org := store.Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.Client{
		{OrgID: org.ID, ClientID: "web-app", Name: "Web", Type: store.ClientWeb, TokenEndpointAuthMethod: "client_secret_basic"},
		{OrgID: org.ID, ClientID: "sync", Name: "Sync", Type: store.ClientService, TokenEndpointAuthMethod: "client_secret_basic"},
	} {
		if err := st.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		t.Fatal(err)
	}
	id := s.Policy.ID
	if err := svc.Attach(ctx, admin, id, policyeditor.Target{ClientID: "sync"}); !errors.Is(err, policyeditor.ErrWrongKind) {
		t.Fatalf("user-access policy on a service app: %v", err)
	}
	if err := svc.Attach(ctx, admin, id, policyeditor.Target{ClientID: "web-app"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, admin, id, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	u, err := svc.Usage(ctx, id)
	if err != nil || len(u.Apps) != 1 || len(u.Points) != 1 {
		t.Fatalf("usage: %v %+v", err, u)
	}
	m2m := ibmDoc(t)
	m2m.Kind = policyeditor.KindMachineToMachine
	m2m.Rules = nil
	if _, err := svc.Save(ctx, admin, id, 0, m2m, ""); err == nil || !strings.Contains(err.Error(), "detach") {
		t.Fatalf("kind change while attached: %v", err)
	}
	if err := svc.Detach(ctx, admin, policyeditor.Target{ClientID: "web-app"}); err != nil {
		t.Fatal(err)
	}
	if u, _ := svc.Usage(ctx, id); len(u.Apps) != 0 {
		t.Fatalf("after detach: %+v", u)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestEngineSeesCLIChangeAndRecords(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	eng := policyeditor.NewEngine(st, rec)
	svc := &policyeditor.Service{Store: st}
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	ev := func(groups ...string) *policyeditor.Evaluation {
		return &policyeditor.Evaluation{Point: policyeditor.PointSignIn, OrgID: "org-a", UserID: "u1", Subject: "ann@example.com",
			Request: policyeditor.Request{Now: now, IP: netip.MustParseAddr("198.51.100.4"),
				User: policyeditor.User{Groups: groups, Locations: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}}
	}
	if out, err := eng.Decide(ctx, ev("contractors")); err != nil || out.Applied {
		t.Fatalf("nothing attached: %v %+v", err, out)
	}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, admin, s.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	out, err := eng.Decide(ctx, ev("contractors"))
	if err != nil || !out.Applied || out.Action != policyeditor.Permit || out.Rule != 2 || out.Version != 1 || out.DecisionID == "" {
		t.Fatalf("contractor at home: %v %+v", err, out)
	}

	// The CLI is another process with its own connection: its save must be
	// seen by the next decisions.
	cli, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	strict := ibmDoc(t)
	strict.Rules = strict.Rules[:1]
	if _, err := (&policyeditor.Service{Store: cli}).Save(ctx, store.Actor{Label: "cli"}, s.Policy.ID, 0, strict, ""); err != nil {
		t.Fatal(err)
	}
	out2, err := eng.Decide(ctx, ev("contractors"))
	// The save reaches the data version within milliseconds (PostgreSQL's
	// notification, SQLite's 10 ms watcher; store tests hold the 20 ms
	// bound): a second is only the give-up point.
	for deadline := time.Now().Add(time.Second); err == nil &&
		out2.Version != 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		out2, err = eng.Decide(ctx, ev("contractors"))
	}
	if err != nil || out2.Action != policyeditor.Deny || out2.Version != 2 {
		t.Fatalf("after CLI save: %v %+v", err, out2)
	}

	if err := rec.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := st.Decision(ctx, "org-a", out.DecisionID)
	if err != nil || got.Rule != 2 || got.Action != "permit" || got.PolicyVersion != 1 || !strings.Contains(string(got.Context), `"groups":["contractors"]`) {
		t.Fatalf("recorded: %v %+v %s", err, got, got.Context)
	}
	if _, err := st.Decision(ctx, "org-b", out.DecisionID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another org sees the decision: %v", err)
	}
	rec.Close()
}

func TestRecorderGroupCommit(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Batch: 100, Log: quiet()})
	req := policyeditor.Request{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// 250 requests at once: each returns only once its decision is
	// committed, and they share transactions.
	ids := make([]string, 250)
	errs := make([]error, 250)
	var wg sync.WaitGroup
	for i := range 250 {
		wg.Go(func() {
			action := "permit"
			if i%5 == 0 {
				action = "deny"
			}
			ids[i], errs[i] = rec.Record(ctx, store.Decision{At: req.Now, Point: "authorize", OrgID: "o", Action: action}, &req, false)
			if errs[i] == nil {
				// Durable on return: another connection sees it at once.
				if _, err := st.Decision(ctx, "o", ids[i]); err != nil {
					errs[i] = fmt.Errorf("not in the log on return: %w", err)
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil || ids[i] == "" {
			t.Fatalf("decision %d: %q %v", i, ids[i], err)
		}
	}
	s := rec.Stats()
	if s.Written != 250 || s.Failed != 0 || s.Batches >= 250 || s.Batches < 3 {
		t.Fatalf("stats %+v: want 250 written in fewer than 250 and at least 3 (Batch 100) transactions", s)
	}
	rec.Close()
	if _, err := rec.Record(ctx, store.Decision{Action: "deny"}, &req, false); !errors.Is(err, policyeditor.ErrRecorderClosed) {
		t.Fatalf("recorded after close: %v", err)
	}
	denies, _ := st.Decisions(ctx, store.DecisionFilter{Action: "deny", Limit: 1000})
	if len(denies) != 50 {
		t.Fatalf("filter by action: %d", len(denies))
	}
}

// A decision that cannot be written fails the Record, and the engine's
// Decide with it: nobody acts on a decision the log does not hold.
func TestRecorderWriteFailureFailsDecide(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	svc := &policyeditor.Service{Store: st}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, admin, s.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	defer rec.Close()
	eng := policyeditor.NewEngine(st, rec)
	ev := &policyeditor.Evaluation{Point: policyeditor.PointSignIn, OrgID: "org", Request: benchRequest()}
	if out, err := eng.Decide(ctx, ev); err != nil || out.DecisionID == "" {
		t.Fatalf("healthy: %v %+v", err, out)
	}
	// The engine has the policy cached; now the database goes away.
	eng.Revalidate = time.Hour
	st.Close()
	out, err := eng.Decide(ctx, ev)
	if err == nil || out.Applied || out.DecisionID != "" {
		t.Fatalf("decided without a record: %v %+v", err, out)
	}
	if s := rec.Stats(); s.Failed != 1 || s.Written != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestDescribeIBM(t *testing.T) {
	var lines []string
	for _, s := range policyeditor.Describe(ibmDoc(t)) {
		lines = append(lines, s.String())
	}
	want := "If the location is new → Challenge. Else if the user is in contractors or developers → Permit. Otherwise → Deny."
	if got := strings.Join(lines, " "); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSimulateContractorAtNewLocation(t *testing.T) {
	in := policyeditor.SimInput{Groups: []string{"contractors"}, IP: "198.51.100.4", Country: "BR", Time: "2026-11-23T23:00",
		Locations: []string{"203.0.113.0/24"}}
	sim, err := policyeditor.Simulate(ibmDoc(t), in, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sim.Trace.Decision.Action != policyeditor.Challenge || sim.Trace.Decision.Rule != 1 {
		t.Fatalf("decision %+v", sim.Trace.Decision)
	}
	if sim.AfterStepUp == nil || sim.AfterStepUp.Decision.Action != policyeditor.Permit {
		t.Fatalf("after step-up %+v", sim.AfterStepUp)
	}
	_, err = policyeditor.Simulate(ibmDoc(t), policyeditor.SimInput{IP: "nope", MFAAge: "soon"}, time.Now(), nil)
	var fe policyeditor.FieldErrors
	if !errors.As(err, &fe) || len(fe.For("ip")) != 1 || len(fe.For("mfa_age")) != 1 {
		t.Fatalf("bad sample: %v", err)
	}
}

// TestTentativeChallengeIsNotRecorded: a Challenge asked tentatively (the
// caller sends the person to a page that asks again) stays out of the log;
// a tentative Permit, or any untentative answer, is recorded as always.
func TestTentativeChallengeIsNotRecorded(t *testing.T) {
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
	if err := svc.Attach(ctx, admin, s.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	ev := func(ip string, tentative bool) *policyeditor.Evaluation {
		return &policyeditor.Evaluation{Point: policyeditor.PointSignIn, OrgID: "org-a", UserID: "u1", Subject: "ann@example.com",
			Tentative: tentative,
			Request: policyeditor.Request{Now: time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC), IP: netip.MustParseAddr(ip),
				User: policyeditor.User{Groups: []string{"contractors"}, Locations: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}}
	}
	for _, c := range []struct {
		ip        string
		tentative bool
		action    policyeditor.Action
		recorded  bool
	}{
		{"203.0.113.9", true, policyeditor.Challenge, false},
		{"203.0.113.9", false, policyeditor.Challenge, true},
		{"198.51.100.4", true, policyeditor.Permit, true},
	} {
		out, err := eng.Decide(ctx, ev(c.ip, c.tentative))
		if err != nil || out.Action != c.action || (out.DecisionID != "") != c.recorded {
			t.Fatalf("%s tentative=%v: %v %+v, want %v recorded=%v", c.ip, c.tentative, err, out, c.action, c.recorded)
		}
	}
}

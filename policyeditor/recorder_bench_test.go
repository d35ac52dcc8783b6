package policyeditor_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"portico/policyeditor"
	"portico/store"
)

func benchRequest() policyeditor.Request {
	return policyeditor.Request{Now: time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC), IP: netip.MustParseAddr("198.51.100.4"),
		Country: "BR", Org: "acme", User: policyeditor.User{Groups: []string{"contractors"},
			Locations: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}}
}

// BenchmarkRecorderRecord is what the request path pays to log a decision:
// an ID and a non-blocking channel send.
func BenchmarkRecorderRecord(b *testing.B) {
	st, _ := openStore(&testing.T{})
	defer st.Close()
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	defer rec.Close()
	req := benchRequest()
	d := store.Decision{Point: "authorize", OrgID: "org", Subject: "ann@example.com", ClientID: "app", Action: "challenge", Reason: "rule 1"}
	b.ReportAllocs()
	for b.Loop() {
		rec.Record(d, &req, false)
	}
	// Far more than SQLite can take: most are dropped, which is the point —
	// the caller never waits.
	b.ReportMetric(float64(rec.Stats().Dropped)/float64(b.N), "dropped/op")
}

// BenchmarkRecorderThroughput is decisions written to SQLite per second,
// end to end: queued, marshalled, batch-inserted and committed.
func BenchmarkRecorderThroughput(b *testing.B) {
	ctx := context.Background()
	t := &testing.T{}
	st, _ := openStore(t)
	defer st.Close()
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	req := benchRequest()
	d := store.Decision{Point: "authorize", OrgID: "org", Subject: "ann@example.com", ClientID: "app", Action: "challenge", Reason: "rule 1 (New location needs MFA): location is new → challenge"}
	start := time.Now()
	n := 0
	for b.Loop() {
		for {
			if _, ok := rec.Record(d, &req, false); ok {
				break
			}
			time.Sleep(50 * time.Microsecond) // queue full: let the writer catch up
		}
		n++
	}
	rec.Sync(ctx)
	el := time.Since(start)
	rec.Close()
	b.ReportMetric(float64(n)/el.Seconds(), "decisions/s")
	if s := rec.Stats(); s.Failed > 0 {
		b.Fatalf("failed writes: %+v", s)
	}
}

// BenchmarkEngineDecide is a whole decision at a point: the DataVersion
// check, the cached compiled policy, Evaluate, and queueing the record.
func BenchmarkEngineDecide(b *testing.B) {
	ctx := context.Background()
	t := &testing.T{}
	st, _ := openStore(t)
	defer st.Close()
	svc := &policyeditor.Service{Store: st}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Attach(ctx, admin, s.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		b.Fatal(err)
	}
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	defer rec.Close()
	eng := policyeditor.NewEngine(st, rec)
	ev := &policyeditor.Evaluation{Point: policyeditor.PointSignIn, OrgID: "org", Request: benchRequest()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Decide(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

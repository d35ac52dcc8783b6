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

// BenchmarkRecorderRecord is what the request path pays to log a decision
// durably, with 64 requests at a time: each waits for the group commit that
// holds its decision.
func BenchmarkRecorderRecord(b *testing.B) {
	ctx := context.Background()
	st, _ := openStore(&testing.T{})
	defer st.Close()
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: quiet()})
	defer rec.Close()
	req := benchRequest()
	d := store.Decision{Point: "authorize", OrgID: "org", Subject: "ann@example.com", ClientID: "app", Action: "challenge", Reason: "rule 1"}
	b.ReportAllocs()
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := rec.Record(ctx, d, &req, false); err != nil {
				b.Error(err)
				return
			}
		}
	})
	s := rec.Stats()
	b.ReportMetric(float64(s.Written)/float64(max(s.Batches, 1)), "decisions/commit")
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

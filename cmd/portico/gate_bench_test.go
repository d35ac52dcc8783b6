package main

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
)

// BenchmarkGateDecision is the decision path of the token endpoint and of a
// launch: the policy gate maps the request, the engine evaluates the
// attached machine-to-machine policy and the recorder logs the decision,
// with 64 requests at a time on a real SQLite file. Since decisions are
// group-committed, each call returns only once its decision is durable;
// docs/PERFORMANCE.md compares it with the asynchronous recorder it
// replaced, measured in the same run.
func BenchmarkGateDecision(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "portico.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	org := store.Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		b.Fatal(err)
	}
	svc := store.Client{OrgID: org.ID, ClientID: "sync", Name: "Sync", Type: store.ClientService, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}
	if err := st.CreateClient(ctx, &svc); err != nil {
		b.Fatal(err)
	}
	eds := &policyeditor.Service{Store: st}
	m2m, err := eds.Import(ctx, store.Actor{Label: "bench"}, []byte(`{"name":"Machines","kind":"machine_to_machine",
		"rules":[{"name":"Known networks","conditions":[{"type":"ip","in":["192.0.2.0/24"]}],"action":"permit"}],"default":"deny"}`))
	if err != nil {
		b.Fatal(err)
	}
	if err := eds.Attach(ctx, store.Actor{Label: "bench"}, m2m.Policy.ID, policyeditor.Target{Point: store.AttachM2M}); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: log})
	engine := policyeditor.NewEngine(st, rec)
	engine.Revalidate = 20 * time.Millisecond // as serve sets it
	gate := newPolicyGate(st, engine, policyeditor.IPLocLocator{}, log)
	req := authserver.GateRequest{Point: authserver.PointClientCredentials, Org: org, Client: &svc, Scopes: []string{"orders:read"},
		Context: authserver.RequestContext{IP: netip.MustParseAddr("192.0.2.7")}}
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := req
			r.Now = time.Now()
			v, err := gate.Check(ctx, r)
			if err != nil || v.Action != authserver.Permit || v.DecisionID == "" {
				b.Errorf("%v %+v", err, v)
				return
			}
		}
	})
	b.StopTimer()
	rec.Close()
	s := rec.Stats()
	b.ReportMetric(float64(s.Written)/float64(max(s.Batches, 1)), "decisions/commit")
	n, err := st.Decisions(ctx, store.DecisionFilter{Limit: 1})
	if err != nil || len(n) == 0 {
		b.Fatalf("no decision written: %v", err)
	}
}

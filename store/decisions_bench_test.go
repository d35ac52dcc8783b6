package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWriteDecisions is the decision log's single writer: batches of
// 64 prepared decisions (what 64 closed-loop clients give the recorder's
// group commit), one transaction each, on a real SQLite file. Its rate
// bounds the token endpoint's when a policy decides every token, so the
// work per decision here is what matters; cpu-ns/decision is the process's
// CPU time per decision, which a busy machine disturbs less than ns/op.
func BenchmarkWriteDecisions(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	raw, _ := json.Marshal(map[string]any{"ip": "198.51.100.4", "location": "198.51.100.0/24", "country": "BR",
		"org": "acme", "groups": []string{"contractors"}, "locations": []string{"203.0.113.0/24"}, "client_type": "service"})
	batch := benchBatch
	all := make([]PendingDecision, (b.N+batch-1)/batch*batch)
	now := time.Now()
	for i := range all {
		all[i] = PrepareDecision(Decision{At: now.Add(time.Duration(i/batch) * time.Millisecond), Point: "token", OrgID: "org", Subject: fmt.Sprintf("svc-%d", i%8),
			ClientID: fmt.Sprintf("svc-%d", i%8), Context: raw, PolicyID: "p", PolicyVersion: 1, Action: "permit", Reason: "default"})
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < len(all); n += batch {
		if _, err := s.WriteDecisions(ctx, all[n:n+batch]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/decision")
}

var benchBatch = 64

func BenchmarkWriteDecisions8(b *testing.B) {
	benchBatch = 8
	defer func() { benchBatch = 64 }()
	BenchmarkWriteDecisions(b)
}

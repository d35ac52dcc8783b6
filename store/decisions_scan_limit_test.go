package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"portico/store"
)

// TestDecisionScanBeyondTheEnginesParameterLimit: a policy with more
// outcomes than the engine takes bind parameters in one statement (SQLite
// 32766, PostgreSQL 65535) is still scanned and counted: the IN lists are
// chunked. Without chunking both engines refuse the statement.
func TestDecisionScanBeyondTheEnginesParameterLimit(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := store.Policy{Name: "P", Kind: "user_access"}
	if err := s.CreatePolicy(ctx, &p, &store.PolicyVersion{Document: json.RawMessage(`{}`), Author: "t"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var ds []store.Decision
	for i := range 10 {
		ds = append(ds, store.Decision{At: t0.Add(time.Duration(i) * time.Millisecond), Point: "launch", ClientID: "wiki",
			PolicyID: p.ID, PolicyVersion: 1, Rule: i, Action: "permit", Reason: "r",
			ShadowVersion: 2, ShadowRule: i, ShadowAction: "deny", ShadowReason: "d"})
	}
	if _, err := s.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	// Outcomes no decision in the range used, of both versions: a policy
	// edited and attached for a long time.
	extra := s.MaxParams() + 100
	for _, v := range []int{1, 2} {
		if err := s.AddOutcomeRefs(ctx, p.ID, v, extra); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err := s.ScanDecisions(ctx, store.DecisionScan{From: t0, PolicyID: p.ID}, func(d *store.ScannedDecision) error {
		if d.PolicyID != p.ID || d.Rule != n {
			t.Fatalf("scanned %+v", d.Decision)
		}
		n++
		return nil
	})
	if err != nil || n != len(ds) {
		t.Fatalf("scan: %d decisions, want %d: %v", n, len(ds), err)
	}
	counts, err := s.ShadowCounts(ctx, p.ID, 2, t0, time.Time{})
	var total int64
	for _, c := range counts {
		total += c.Count
	}
	if err != nil || total != int64(len(ds)) {
		t.Fatalf("shadow counts: %d, want %d: %v", total, len(ds), err)
	}
}

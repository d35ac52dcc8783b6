package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"portico/store"
)

// TestDecisionScanChunksItsInLists: with a parameter limit so low that the
// policy's outcomes, the points and the clients each take several chunks,
// a scan returns exactly the decisions it returns in one statement, in the
// same order, and the report-only counts are the same.
func TestDecisionScanChunksItsInLists(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := store.Policy{Name: "P", Kind: "user_access"}
	if err := s.CreatePolicy(ctx, &p, &store.PolicyVersion{Document: json.RawMessage(`{}`), Author: "t"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	points := []string{"launch", "authorize", "token", "api_request", "userinfo"}
	clients := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	var ds []store.Decision
	for i := range 5000 {
		d := store.Decision{At: t0.Add(time.Duration(i) * time.Millisecond), Point: points[i%len(points)], OrgID: "o",
			ClientID: clients[i%len(clients)], PolicyID: p.ID, PolicyVersion: 1 + i%3, Rule: i % 11, Action: "permit",
			Reason: fmt.Sprint("r", i%13), ShadowVersion: 4, ShadowRule: i % 5, ShadowAction: "deny", ShadowReason: "d"}
		if i%4 == 0 {
			d.PolicyID = "other"
		}
		ds = append(ds, d)
	}
	if _, err := s.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	scan := func(f store.DecisionScan) []string {
		t.Helper()
		var ids []string
		err := s.ScanDecisions(ctx, f, func(d *store.ScannedDecision) error {
			ids = append(ids, d.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	scans := []store.DecisionScan{
		{From: t0, PolicyID: p.ID},
		{From: t0, PolicyID: p.ID, Points: points[:4], ClientIDs: clients[1:6]},
		{From: t0, Points: points[1:], ClientIDs: clients},
	}
	var whole [][]string
	for _, f := range scans {
		whole = append(whole, scan(f))
	}
	counts, err := s.ShadowCounts(ctx, p.ID, 4, t0, time.Time{})
	if err != nil || len(counts) == 0 {
		t.Fatalf("shadow counts: %v %v", err, counts)
	}
	if n := len(whole[0]); n != 3750 {
		t.Fatalf("one statement: %d decisions, want 3750", n)
	}

	store.SetParamLimit(9) // 2 IDs a list with three lists: dozens of streams
	t.Cleanup(func() { store.SetParamLimit(0) })
	for i, f := range scans {
		got := scan(f)
		if !slices.Equal(got, whole[i]) {
			t.Errorf("scan %d chunked: %d decisions, want the %d of one statement in the same order", i, len(got), len(whole[i]))
		}
	}
	chunked, err := s.ShadowCounts(ctx, p.ID, 4, t0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sum := func(cs []store.ShadowCount) map[string]int64 {
		m := map[string]int64{}
		for _, c := range cs {
			m[c.Enforced+c.Shadow+c.Point+c.ClientID] += c.Count
		}
		return m
	}
	if a, b := sum(counts), sum(chunked); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("shadow counts chunked %v, want %v", b, a)
	}
}

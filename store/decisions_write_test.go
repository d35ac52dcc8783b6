package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"portico/store"
)

// TestInsertDecisionsTakenIDs checks the multi-row insert's collision
// handling: a decision whose ID another row already has (another replica,
// the same millisecond) and one whose ID an earlier decision of the same
// batch has are each written under a fresh ID, written back; nothing is
// lost, nothing overwritten, and batches that are not a power of two
// (several INSERTs) are written whole and read back exactly.
func TestInsertDecisionsTakenIDs(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	at := time.Now().UTC().Truncate(time.Millisecond)
	taken := store.NewDecisionID(at)
	first := []store.Decision{{ID: taken, At: at, Point: "token", Subject: "first", Action: "permit", Reason: "r"}}
	if n, err := s.InsertDecisions(ctx, first); err != nil || n != 0 {
		t.Fatalf("first insert: %d %v", n, err)
	}
	dup := store.NewDecisionID(at)
	var ds []store.Decision
	for i := range 37 {
		d := store.Decision{At: at, Point: "token", Subject: fmt.Sprintf("s%d", i), ClientID: "svc", Action: "permit",
			Reason: "r", Context: json.RawMessage(fmt.Sprintf(`{"ip":"198.51.100.%d","groups":["g%d"]}`, i, i%3))}
		switch i {
		case 5:
			d.ID = taken
		case 20, 21:
			d.ID = dup
		}
		ds = append(ds, d)
	}
	if n, err := s.InsertDecisions(ctx, ds); err != nil || n != 0 {
		t.Fatalf("insert: %d collided, %v", n, err)
	}
	seen := map[string]bool{taken: true}
	for i, d := range ds {
		if seen[d.ID] {
			t.Fatalf("decision %d kept a taken ID %s", i, d.ID)
		}
		seen[d.ID] = true
		got, err := s.Decision(ctx, "", d.ID)
		if err != nil || got.Subject != d.Subject {
			t.Fatalf("decision %d (%s): %+v %v", i, d.ID, got, err)
		}
		var want, have map[string]any
		json.Unmarshal(d.Context, &want)
		json.Unmarshal(got.Context, &have)
		if fmt.Sprint(want) != fmt.Sprint(have) {
			t.Fatalf("decision %d context: %s, want %s", i, got.Context, d.Context)
		}
	}
	if got, err := s.Decision(ctx, "", taken); err != nil || got.Subject != "first" {
		t.Fatalf("the first row was overwritten: %+v %v", got, err)
	}
	if n, err := s.CountDecisions(ctx); err != nil || n != 38 {
		t.Fatalf("count %d %v, want 38", n, err)
	}
}

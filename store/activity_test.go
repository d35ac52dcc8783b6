package store_test

import (
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestActivityAddsUp: counts from several flushes (replicas) add up per
// day, and days without any read as zero.
func TestActivityAddsUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		s := e.Open(t)
		ctx := t.Context()
		d1 := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
		d3 := d1.Add(48 * time.Hour)
		for _, c := range []map[string]int{{store.ActivityTokens: 5, store.ActivitySignIns: 1}, {store.ActivityTokens: 2}} {
			if err := s.AddActivity(ctx, d1, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddActivity(ctx, d3, map[string]int{store.ActivityTokens: 4}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Activity(ctx, store.ActivityTokens, d1, d3)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].N != 7 || got[1].N != 0 || got[2].N != 4 || !got[0].Day.Equal(store.Day(d1)) {
			t.Fatalf("tokens per day %+v", got)
		}
	})
}

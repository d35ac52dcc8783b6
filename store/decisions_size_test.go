package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// sampleDecisions makes n decisions that look like a busy portal's: 20
// organizations, 400 users, 60 applications, a few policies and rules,
// contexts with a per-request address and MFA time.
func sampleDecisions(n int, t0 time.Time) []store.Decision {
	r := rand.New(rand.NewPCG(1, 2))
	actions := []string{"permit", "permit", "permit", "challenge", "deny"}
	points := []string{"authorize", "token", "launch", "portal"}
	out := make([]store.Decision, n)
	for i := range out {
		u := r.IntN(400)
		org := u % 20
		rule := r.IntN(4)
		at := t0.Add(time.Duration(i) * 37 * time.Millisecond)
		ctx := map[string]any{
			"ip":        fmt.Sprintf("198.51.%d.%d", r.IntN(256), r.IntN(256)),
			"country":   []string{"US", "BR", "DE", "IN"}[u%4],
			"org":       fmt.Sprintf("org-%02d", org),
			"plan":      []string{"gold", "silver"}[org%2],
			"groups":    []string{"developers", fmt.Sprintf("team-%d", u%7)},
			"scopes":    []string{"openid", "profile", "email"},
			"locations": []string{fmt.Sprintf("203.0.%d.0/24", u%200)},
			"mfa_at":    at.Add(-time.Duration(r.IntN(3600)) * time.Second).Truncate(time.Millisecond).UTC(),
			// What replay needs besides: the session's auth methods with
			// per-session times, the connection and the client's type.
			"auth_methods": map[string]time.Time{
				"pwd": at.Add(-time.Duration(r.IntN(8*3600)) * time.Second).Truncate(time.Millisecond).UTC(),
				"otp": at.Add(-time.Duration(r.IntN(3600)) * time.Second).Truncate(time.Millisecond).UTC()},
			"connection":  fmt.Sprintf("conn-%02d", org),
			"client_type": "web",
		}
		var a, b, c, d int
		fmt.Sscanf(ctx["ip"].(string), "%d.%d.%d.%d", &a, &b, &c, &d)
		ctx["location"] = fmt.Sprintf("%d.%d.%d.0/24", a, b, c)
		raw, _ := json.Marshal(ctx)
		out[i] = store.Decision{At: at, Point: points[r.IntN(len(points))], OrgID: fmt.Sprintf("org%024d", org),
			UserID: fmt.Sprintf("user%022d", u), Subject: fmt.Sprintf("person%d@org-%02d.example", u, org),
			ClientID: fmt.Sprintf("client%020d", r.IntN(60)), Context: raw,
			PolicyID: fmt.Sprintf("policy%020d", org%3), PolicyVersion: 1 + org%2, Rule: rule,
			Action: actions[r.IntN(len(actions))], Reason: fmt.Sprintf("rule %d (Office hours): the request matched → permit", rule)}
	}
	return out
}

func dbBytes(t *testing.T, s *store.Store) int64 {
	t.Helper()
	var pages, size int64
	if err := s.DB().QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRow("PRAGMA page_size").Scan(&size); err != nil {
		t.Fatal(err)
	}
	return pages * size
}

// TestDecisionBytesPerRow inserts decisions the way the recorder does
// (batches of 512) and measures how much the database grows per decision,
// tables and indexes included: the target is at most 150 bytes.
func TestDecisionBytesPerRow(t *testing.T) {
	ctx := context.Background()
	// SQLite only: it measures SQLite pages.
	s := storetest.OpenDSN(t, storetest.EngineDSN(t, storetest.SQLite))
	const n = 30000
	ds := sampleDecisions(n, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	// A first batch creates the references a warm log already has.
	if _, err := s.InsertDecisions(ctx, ds[:2000]); err != nil {
		t.Fatal(err)
	}
	before := dbBytes(t, s)
	for i := 2000; i < n; i += 512 {
		if _, err := s.InsertDecisions(ctx, ds[i:min(i+512, n)]); err != nil {
			t.Fatal(err)
		}
	}
	per := float64(dbBytes(t, s)-before) / float64(n-2000)
	t.Logf("%.1f bytes per decision (%d decisions)", per, n-2000)
	if per > 150 {
		t.Errorf("%.1f bytes per decision, want at most 150", per)
	}
	// What went in comes back out.
	got, err := s.Decision(ctx, "", ds[n-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	var want, have map[string]any
	json.Unmarshal(ds[n-1].Context, &want)
	json.Unmarshal(got.Context, &have)
	if fmt.Sprint(want) != fmt.Sprint(have) || got.Reason != ds[n-1].Reason || got.UserID != ds[n-1].UserID ||
		got.Subject != ds[n-1].Subject || got.ClientID != ds[n-1].ClientID || got.Rule != ds[n-1].Rule ||
		got.PolicyID != ds[n-1].PolicyID || !got.At.Equal(ds[n-1].At) || got.Point != ds[n-1].Point {
		t.Fatalf("round trip:\n got %+v\nwant %+v\n%s\n%s", got, ds[n-1], got.Context, ds[n-1].Context)
	}
}

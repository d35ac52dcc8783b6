package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"portico/store"
)

// TestDecisionScanAndShadow checks what replay and report-only mode read:
// the inline auth method and token times come back exactly, a scan streams
// one policy's decisions oldest first across chunks, shadow outcomes are
// stored and counted, and a report-only version is promoted only once.
func TestDecisionScanAndShadow(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	p := store.Policy{Name: "P", Kind: "user_access"}
	if err := s.CreatePolicy(ctx, &p, &store.PolicyVersion{Document: json.RawMessage(`{}`), Author: "t"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	cx := `{"auth_methods":{"hwk":"` + t0.Add(-time.Minute).Format(time.RFC3339Nano) + `","pwd":"` +
		t0.Add(-2*time.Hour).Format(time.RFC3339Nano) + `"},"groups":["developers"],"ip":"198.51.100.7",` +
		`"token_iat":"` + t0.Add(-30*time.Second).Format(time.RFC3339Nano) + `"}`
	var ds []store.Decision
	for i := 0; i < 4500; i++ {
		d := store.Decision{At: t0.Add(time.Duration(i) * time.Millisecond), Point: "launch", OrgID: "o", UserID: "u",
			Subject: "a@example.com", ClientID: "wiki", Context: json.RawMessage(cx), PolicyID: p.ID, PolicyVersion: 1,
			Rule: 2, Action: "permit", Reason: "r"}
		if i%3 == 0 {
			d.PolicyID = "other"
		}
		ds = append(ds, d)
	}
	if _, err := s.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	got, err := s.Decision(ctx, "", ds[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	var want, have map[string]any
	json.Unmarshal([]byte(cx), &want)
	json.Unmarshal(got.Context, &have)
	// Times come back in UTC; compare them as instants.
	wa, ha := want["auth_methods"].(map[string]any), have["auth_methods"].(map[string]any)
	for m, v := range wa {
		tw, _ := time.Parse(time.RFC3339Nano, v.(string))
		th, _ := time.Parse(time.RFC3339Nano, ha[m].(string))
		if !tw.Equal(th) {
			t.Fatalf("auth method %s: %v, want %v", m, th, tw)
		}
	}
	if tw, _ := time.Parse(time.RFC3339Nano, want["token_iat"].(string)); have["token_iat"] != tw.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("token_iat: %v", have["token_iat"])
	}
	n, last := 0, time.Time{}
	err = s.ScanDecisions(ctx, store.DecisionScan{From: t0, PolicyID: p.ID}, func(d *store.ScannedDecision) error {
		if d.PolicyID != p.ID || d.At.Before(last) || d.Rule != 2 || d.Subject != "a@example.com" {
			t.Fatalf("scanned %+v", d.Decision)
		}
		var x store.ContextExtra
		store.DecodeContextExtra(d.Extra, d.At, store.AuthMethodNames(json.RawMessage(mustField(t, d.SharedContext, "auth_methods"))), &x)
		if len(x.AuthNames) != 2 || x.AuthNames[0] != "hwk" || !x.AuthAt[0].Equal(t0.Add(-time.Minute)) || !x.TokenIssuedAt.Equal(t0.Add(-30*time.Second)) {
			t.Fatalf("extra %+v", x)
		}
		last = d.At
		n++
		return nil
	})
	if err != nil || n != 3000 {
		t.Fatalf("scanned %d, want 3000: %v", n, err)
	}

	// Report-only.
	v := store.PolicyVersion{Document: json.RawMessage(`{}`), Author: "t"}
	if err := s.AddShadowVersion(ctx, p.ID, &v); err != nil || v.Version != 2 {
		t.Fatalf("shadow version: %v %+v", err, v)
	}
	if err := s.SetPolicyShadow(ctx, p.ID, 1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the current version as its own shadow: %v", err)
	}
	if err := s.SetPolicyShadow(ctx, p.ID, 9); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a missing version as shadow: %v", err)
	}
	pp, _ := s.Policy(ctx, p.ID)
	if _, err := s.InsertDecisions(ctx, []store.Decision{
		{Point: "launch", ClientID: "wiki", PolicyID: p.ID, PolicyVersion: 1, Rule: 2, Action: "permit", Reason: "r", ShadowVersion: 2, ShadowAction: "deny", ShadowReason: "d"},
		{Point: "launch", ClientID: "wiki", PolicyID: p.ID, PolicyVersion: 1, Rule: 2, Action: "permit", Reason: "r", ShadowVersion: 2, ShadowRule: 2, ShadowAction: "permit", ShadowReason: "r"},
	}); err != nil {
		t.Fatal(err)
	}
	counts, err := s.ShadowCounts(ctx, p.ID, 2, pp.ShadowSince, time.Time{})
	if err != nil || len(counts) != 2 {
		t.Fatalf("counts: %v %+v", err, counts)
	}
	for _, c := range counts {
		if c.Count != 1 || c.Enforced != "permit" || c.Point != "launch" || c.ClientID != "wiki" {
			t.Fatalf("count %+v", c)
		}
	}
	if _, err := s.PromoteShadow(ctx, p.ID, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PromoteShadow(ctx, p.ID, 2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second promote: %v", err)
	}
	if pp, _ := s.Policy(ctx, p.ID); pp.CurrentVersion != 2 || pp.ShadowVersion != 0 {
		t.Fatalf("after promote: %+v", pp)
	}
	// The next save takes the next number after every version.
	v3 := store.PolicyVersion{Document: json.RawMessage(`{}`), Author: "t"}
	if err := s.AddPolicyVersion(ctx, &p, 0, &v3); err != nil || v3.Version != 3 {
		t.Fatalf("save after promote: %v %+v", err, v3)
	}
}

func mustField(t *testing.T, obj, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		t.Fatalf("%s: %v", obj, err)
	}
	return string(m[key])
}

package store_test

import (
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestDecisionStats: counts per hour, per policy, per app and the top deny
// reasons, within one organization's scope, on both engines.
func TestDecisionStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		s := e.Open(t)
		ctx := t.Context()
		from := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		at := func(h, m int) time.Time { return from.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
		d := func(at time.Time, org, client, policy, action, reason string) store.Decision {
			return store.Decision{At: at, Point: "launch", OrgID: org, UserID: "u", Subject: "u@x", ClientID: client,
				PolicyID: policy, PolicyVersion: 1, Action: action, Reason: reason}
		}
		ds := []store.Decision{
			d(at(0, 1), "acme", "wiki", "p1", "permit", "ok"),
			d(at(0, 2), "acme", "wiki", "p1", "deny", "outside hours"),
			d(at(0, 3), "acme", "crm", "p1", "deny", "outside hours"),
			d(at(2, 0), "acme", "crm", "p2", "challenge", "new network"),
			d(at(2, 5), "acme", "crm", "p2", "deny", "country"),
			d(at(2, 6), "other", "x", "p9", "deny", "other org"),
			d(at(5, 0), "acme", "wiki", "p1", "permit", "outside the range"),
		}
		for i := range ds {
			ds[i].ID = store.NewDecisionID(ds[i].At)
		}
		if _, err := s.InsertDecisions(ctx, ds); err != nil {
			t.Fatal(err)
		}
		st, err := s.DecisionStats(ctx, store.DecisionFilter{OrgID: "acme", From: from, Until: at(4, 0)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Buckets) != 4 {
			t.Fatalf("%d buckets", len(st.Buckets))
		}
		if b := st.Buckets[0].ActionCounts; b != (store.ActionCounts{Permit: 1, Deny: 2}) {
			t.Errorf("hour 0: %+v", b)
		}
		if b := st.Buckets[2].ActionCounts; b != (store.ActionCounts{Challenge: 1, Deny: 1}) {
			t.Errorf("hour 2: %+v", b)
		}
		if st.Buckets[1].Total() != 0 || st.Buckets[3].Total() != 0 {
			t.Errorf("empty hours counted: %+v", st.Buckets)
		}
		if len(st.ByPolicy) != 2 || st.ByPolicy[0].Key != "p1" || st.ByPolicy[0].Total() != 3 {
			t.Errorf("by policy %+v", st.ByPolicy)
		}
		if len(st.ByApp) != 2 || st.ByApp[0].Key != "crm" || st.ByApp[0].Deny != 2 {
			t.Errorf("by app %+v", st.ByApp)
		}
		if len(st.DenyReasons) != 2 || st.DenyReasons[0].Reason != "outside hours" || st.DenyReasons[0].Count != 2 {
			t.Errorf("deny reasons %+v", st.DenyReasons)
		}
		all, err := s.DecisionStats(ctx, store.DecisionFilter{From: from, Until: at(4, 0)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if all.Buckets[2].Deny != 2 {
			t.Errorf("every organization, hour 2: %+v", all.Buckets[2])
		}
		none, err := s.DecisionStats(ctx, store.DecisionFilter{OrgID: "never", From: from, Until: at(4, 0)}, time.Hour)
		if err != nil || len(none.ByPolicy) != 0 {
			t.Errorf("an organization without decisions: %+v %v", none, err)
		}
	})
}

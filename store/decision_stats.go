package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ActionCounts counts decisions by action.
type ActionCounts struct {
	Permit, Challenge, Deny int
}

// Total is the sum of the counts.
func (a ActionCounts) Total() int { return a.Permit + a.Challenge + a.Deny }

func (a *ActionCounts) add(action string, n int) {
	switch action {
	case "permit":
		a.Permit += n
	case "challenge":
		a.Challenge += n
	case "deny":
		a.Deny += n
	}
}

// DecisionBucket is one interval of a decision chart.
type DecisionBucket struct {
	Start time.Time
	ActionCounts
}

// DecisionGroup is the counts of one policy or one app.
type DecisionGroup struct {
	Key  string // policy ID or client_id; "" for decisions without one
	Name string // the policy's name, for policies
	ActionCounts
}

// DenyReason is a reason decisions were denied for, and how often.
type DenyReason struct {
	Reason     string
	PolicyID   string
	PolicyName string
	Count      int
}

// DecisionStats are the decision log's counts over [From, Until).
type DecisionStats struct {
	Buckets     []DecisionBucket
	ByPolicy    []DecisionGroup
	ByApp       []DecisionGroup
	DenyReasons []DenyReason
}

// DecisionStats counts the decisions of f's organization (every one when
// f.OrgID is "") in [f.From, f.Until) per bucket, per policy, per app and
// by deny reason. The IDs are the time, so the range is a primary-key
// range; the counting is one GROUP BY over it.
func (s *Store) DecisionStats(ctx context.Context, f DecisionFilter, bucket time.Duration) (DecisionStats, error) {
	var st DecisionStats
	if bucket <= 0 || f.From.IsZero() || !f.Until.After(f.From) {
		return st, fmt.Errorf("store: decision stats: a bucket and a time range are required")
	}
	n := int(f.Until.Sub(f.From) / bucket)
	if n > 1000 {
		return st, fmt.Errorf("store: decision stats: %d buckets is too many", n)
	}
	for i := range n {
		st.Buckets = append(st.Buckets, DecisionBucket{Start: f.From.Add(time.Duration(i) * bucket)})
	}
	where, args, none, err := s.decisionConditions(ctx, DecisionFilter{OrgID: f.OrgID, From: f.From, Until: f.Until})
	if err != nil || none {
		return st, err
	}
	q := `SELECT ((d.id >> ` + fmt.Sprint(decisionTimeShift) + `) - ?) / ?, d.action, d.outcome_ref, d.client_ref, COUNT(*)
		FROM decisions d WHERE ` + strings.Join(where, " AND ") + ` GROUP BY 1, 2, 3, 4`
	rows, err := s.q.QueryContext(ctx, q, append([]any{f.From.UnixMilli(), bucket.Milliseconds()}, args...)...)
	if err != nil {
		return st, fmt.Errorf("store: decision stats: %w", err)
	}
	type agg struct {
		b               int
		action          string
		outcome, client int64
		n               int
	}
	var all []agg
	var refIDs []int64
	for rows.Next() {
		var a agg
		if err := rows.Scan(&a.b, &a.action, &a.outcome, &a.client, &a.n); err != nil {
			rows.Close()
			return st, fmt.Errorf("store: decision stats: %w", err)
		}
		all = append(all, a)
		refIDs = append(refIDs, a.outcome, a.client)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	names, err := s.refNames(ctx, refIDs)
	if err != nil {
		return st, err
	}
	byPolicy, byApp, reasons := map[string]*DecisionGroup{}, map[string]*DecisionGroup{}, map[[2]string]*DenyReason{}
	for _, a := range all {
		if a.b >= 0 && a.b < len(st.Buckets) {
			st.Buckets[a.b].add(a.action, a.n)
		}
		o := parseOutcome(names[a.outcome])
		g := byPolicy[o.PolicyID]
		if g == nil {
			g = &DecisionGroup{Key: o.PolicyID}
			byPolicy[o.PolicyID] = g
		}
		g.add(a.action, a.n)
		client := strings.TrimPrefix(names[a.client], refClient)
		if g = byApp[client]; g == nil {
			g = &DecisionGroup{Key: client}
			byApp[client] = g
		}
		g.add(a.action, a.n)
		if a.action == "deny" {
			k := [2]string{o.PolicyID, o.Reason}
			r := reasons[k]
			if r == nil {
				r = &DenyReason{Reason: o.Reason, PolicyID: o.PolicyID}
				reasons[k] = r
			}
			r.Count += a.n
		}
	}
	policyNames := map[string]string{}
	for id := range byPolicy {
		if id != "" {
			if p, err := s.policyName(ctx, id); err == nil {
				policyNames[id] = p
			}
		}
	}
	for _, g := range byPolicy {
		g.Name = policyNames[g.Key]
		st.ByPolicy = append(st.ByPolicy, *g)
	}
	for _, g := range byApp {
		st.ByApp = append(st.ByApp, *g)
	}
	for _, r := range reasons {
		r.PolicyName = policyNames[r.PolicyID]
		st.DenyReasons = append(st.DenyReasons, *r)
	}
	busiest := func(gs []DecisionGroup) {
		sort.Slice(gs, func(i, j int) bool {
			if gs[i].Total() != gs[j].Total() {
				return gs[i].Total() > gs[j].Total()
			}
			return gs[i].Key < gs[j].Key
		})
	}
	busiest(st.ByPolicy)
	busiest(st.ByApp)
	sort.Slice(st.DenyReasons, func(i, j int) bool {
		if st.DenyReasons[i].Count != st.DenyReasons[j].Count {
			return st.DenyReasons[i].Count > st.DenyReasons[j].Count
		}
		return st.DenyReasons[i].Reason < st.DenyReasons[j].Reason
	})
	if len(st.DenyReasons) > 10 {
		st.DenyReasons = st.DenyReasons[:10]
	}
	return st, nil
}

func (s *Store) policyName(ctx context.Context, id string) (string, error) {
	var name string
	err := s.q.QueryRowContext(ctx, `SELECT name FROM policies WHERE id = ?`, id).Scan(&name)
	return name, err
}

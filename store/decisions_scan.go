package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DecisionScan selects decisions for ScanDecisions: a time range, narrowed
// to the decisions some version of one policy made, or to points and
// clients (replay of a policy not attached yet).
type DecisionScan struct {
	From, Until time.Time // Until zero: up to now
	PolicyID    string
	Points      []string
	ClientIDs   []string
}

// ScannedDecision is a decision as ScanDecisions streams it: its strings
// resolved, its context left in the two stored parts so that a reader can
// parse the shared part once per distinct ContextRef. The value passed to
// the callback is reused: copy what must outlive the call.
type ScannedDecision struct {
	Decision
	ContextRef int64
	// SharedContext is the JSON object of the context's repeating part
	// ("" when none); Extra the per-request bytes (DecodeContextExtra).
	SharedContext string
	Extra         []byte
}

// scanChunk is how many rows one query of a scan reads.
const scanChunk = 2000

// maxParams is how many bind parameters one statement may carry:
// SQLite's SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32, modernc's build
// included) and PostgreSQL's wire protocol limit (65535, a 16-bit count).
// paramLimit, when set (tests), lowers it.
func (s *Store) maxParams() int {
	if paramLimit > 0 {
		return paramLimit
	}
	if s.e.pg {
		return 65535
	}
	return 32766
}

var paramLimit int

// chunks splits ids into lists of at most n.
func chunks(ids []any, n int) [][]any {
	var out [][]any
	for len(ids) > 0 {
		c := ids[:min(n, len(ids))]
		out, ids = append(out, c), ids[len(c):]
	}
	return out
}

// scanStream is one query of a scan (one combination of IN-list chunks),
// read scanChunk rows at a time from its own cursor.
type scanStream struct {
	args  []any
	sizes []int // of each IN list's chunk in args
	lo    int64
	buf   []decisionRow
	pos   int
	done  bool
}

// ScanDecisions calls fn for every decision f selects, oldest first,
// reading scanChunk rows per query by primary-key range so that a week of
// millions of decisions streams in constant memory. fn returning an error
// stops the scan with it.
//
// A policy edited often has many outcomes (one per version, rule and
// reason), and a selection may name many points or clients: every IN list
// is cut into chunks that keep a statement within the engine's parameter
// limit, each combination of chunks is read as its own stream, and the
// streams (disjoint: a decision has one outcome, point and client) are
// merged by primary key, so the order and the constant memory hold.
func (s *Store) ScanDecisions(ctx context.Context, f DecisionScan, fn func(*ScannedDecision) error) error {
	type inList struct {
		col string
		ids []any
	}
	var lists []inList
	if f.PolicyID != "" {
		ids, _, err := s.policyOutcomeRefs(ctx, f.PolicyID, 0)
		if err != nil || len(ids) == 0 {
			return err
		}
		lists = append(lists, inList{"d.outcome_ref", ids})
	}
	for _, set := range []struct {
		col, prefix string
		values      []string
	}{{"d.point_ref", refPoint, f.Points}, {"d.client_ref", refClient, f.ClientIDs}} {
		if len(set.values) == 0 {
			continue
		}
		vals := make([]any, len(set.values))
		for i, v := range set.values {
			vals[i] = set.prefix + v
		}
		var ids []any
		for _, c := range chunks(vals, s.maxParams()) {
			strs := make([]string, len(c))
			for i, v := range c {
				strs[i] = v.(string)
			}
			got, err := s.existingRefs(ctx, strs...)
			if err != nil {
				return err
			}
			ids = append(ids, got...)
		}
		if len(ids) == 0 {
			return nil
		}
		lists = append(lists, inList{set.col, ids})
	}
	until := f.Until
	if until.IsZero() {
		until = s.Now().Add(time.Second)
	}
	lo, hi := decisionTimeKey(f.From), decisionTimeKey(until)

	// Each list gets an equal share of the parameters left after lo, hi
	// and the limit.
	per := (s.maxParams() - 3) / max(1, len(lists))
	streams := []*scanStream{{lo: lo}}
	for _, l := range lists {
		parts := chunks(l.ids, per)
		next := make([]*scanStream, 0, len(streams)*len(parts))
		for _, st := range streams {
			for _, p := range parts {
				next = append(next, &scanStream{lo: lo, args: append(append([]any(nil), st.args...), p...),
					sizes: append(append([]int(nil), st.sizes...), len(p))})
			}
		}
		streams = next
	}
	queries := map[string]string{} // by the stream's chunk sizes
	query := func(st *scanStream) string {
		key := fmt.Sprint(st.sizes)
		if q, ok := queries[key]; ok {
			return q
		}
		q := `SELECT d.id, ` + decisionColumns + ` FROM decisions d WHERE d.id >= ? AND d.id < ?`
		for i, l := range lists {
			q += ` AND ` + l.col + ` IN (?` + strings.Repeat(", ?", st.sizes[i]-1) + `)`
		}
		q += ` ORDER BY d.id LIMIT ?`
		queries[key] = q
		return q
	}
	fill := func(st *scanStream) error {
		if st.pos < len(st.buf) || st.done {
			return nil
		}
		st.buf, st.pos = st.buf[:0], 0
		qargs := append(append([]any{st.lo, hi}, st.args...), scanChunk)
		r, err := s.q.QueryContext(ctx, query(st), qargs...)
		if err != nil {
			return fmt.Errorf("store: scan decisions: %w", err)
		}
		for r.Next() {
			var row decisionRow
			err := r.Scan(&row.key, &row.point, &row.org, &row.who, &row.client, &row.outcome, &row.action,
				&row.cxref, &row.extra, &row.shadow)
			if err != nil {
				r.Close()
				return fmt.Errorf("store: scan decisions: %w", err)
			}
			st.buf = append(st.buf, row)
		}
		r.Close()
		if err := r.Err(); err != nil {
			return fmt.Errorf("store: scan decisions: %w", err)
		}
		if len(st.buf) < scanChunk {
			st.done = true
		}
		if len(st.buf) > 0 {
			st.lo = st.buf[len(st.buf)-1].key + 1
		}
		return nil
	}

	outcomes := map[int64]outcome{}
	var sd ScannedDecision
	rows := make([]decisionRow, 0, scanChunk)
	for {
		rows = rows[:0]
		for len(rows) < scanChunk {
			var first *scanStream
			for _, st := range streams {
				if err := fill(st); err != nil {
					return err
				}
				if st.pos < len(st.buf) && (first == nil || st.buf[st.pos].key < first.buf[first.pos].key) {
					first = st
				}
			}
			if first == nil {
				break
			}
			rows = append(rows, first.buf[first.pos])
			first.pos++
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, 0, len(rows)*7)
		for _, row := range rows {
			ids = append(ids, row.point, row.org, row.who, row.client, row.outcome, row.cxref, row.shadow.Int64)
		}
		names, err := s.refNames(ctx, ids)
		if err != nil {
			return err
		}
		parsed := func(id int64) outcome {
			o, ok := outcomes[id]
			if !ok {
				o = parseOutcome(names[id])
				outcomes[id] = o
			}
			return o
		}
		for _, row := range rows {
			sd = ScannedDecision{ContextRef: row.cxref, Extra: row.extra,
				SharedContext: strings.TrimPrefix(names[row.cxref], refContext)}
			d := &sd.Decision
			d.ID, d.At, d.Action = strconv.FormatInt(row.key, 36), decisionKeyTime(row.key), row.action
			d.Point = strings.TrimPrefix(names[row.point], refPoint)
			d.OrgID = strings.TrimPrefix(names[row.org], refOrg)
			d.UserID, d.Subject, _ = strings.Cut(strings.TrimPrefix(names[row.who], refWho), whoSep)
			d.ClientID = strings.TrimPrefix(names[row.client], refClient)
			o := parsed(row.outcome)
			d.PolicyID, d.PolicyVersion, d.Rule, d.Reason = o.PolicyID, o.Version, o.Rule, o.Reason
			if row.shadow.Valid {
				sh := parsed(row.shadow.Int64)
				d.ShadowVersion, d.ShadowRule, d.ShadowAction, d.ShadowReason = sh.Version, sh.Rule, sh.Action, sh.Reason
			}
			if err := fn(&sd); err != nil {
				return err
			}
		}
		if len(rows) < scanChunk {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// policyOutcomeRefs returns the outcome references of a policy's decisions
// (of one version when version > 0), with their outcomes.
func (s *Store) policyOutcomeRefs(ctx context.Context, policyID string, version int) ([]any, map[int64]outcome, error) {
	prefix := refOutcome + `["` + policyID + `",`
	if version > 0 {
		prefix += strconv.Itoa(version) + ","
	}
	// Every value with the prefix sorts between it and the prefix with its
	// last byte (a comma) incremented.
	hi := prefix[:len(prefix)-1] + "-"
	rows, err := s.q.QueryContext(ctx, `SELECT id, value FROM decision_refs WHERE value >= ? AND value < ?`, prefix, hi)
	if err != nil {
		return nil, nil, fmt.Errorf("store: policy outcomes: %w", err)
	}
	defer rows.Close()
	var ids []any
	outs := map[int64]outcome{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, nil, err
		}
		if o := parseOutcome(v); o.PolicyID == policyID && (version == 0 || o.Version == version) {
			ids, outs[id] = append(ids, id), o
		}
	}
	return ids, outs, rows.Err()
}

// ShadowCount is how many decisions had one enforced action and one
// report-only action, at one point for one application.
type ShadowCount struct {
	Enforced, Shadow string
	Point, ClientID  string
	Count            int64
}

// ShadowCounts counts the decisions made from since (inclusive) until
// until (exclusive; zero: no end) by policyID while version was attached in
// report-only mode, by enforced action, shadow action, point and client:
// the policy page's disagreement table. It reads the time range by primary
// key; callers keep the counts of the past and ask only for what is new.
func (s *Store) ShadowCounts(ctx context.Context, policyID string, version int, since, until time.Time) ([]ShadowCount, error) {
	ids, outs, err := s.policyOutcomeRefs(ctx, policyID, version)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	hi := int64(1<<63 - 1)
	if !until.IsZero() {
		hi = decisionTimeKey(until)
	}
	type raw struct {
		action                string
		shadow, point, client int64
		n                     int64
	}
	var rs []raw
	// The outcomes are cut to fit the engine's parameter limit; each group
	// has one shadow outcome, so the chunks' groups are disjoint.
	for _, chunk := range chunks(ids, s.maxParams()-2) {
		args := append([]any{decisionTimeKey(since), hi}, chunk...)
		rows, err := s.q.QueryContext(ctx, `SELECT d.action, d.shadow_ref, d.point_ref, d.client_ref, COUNT(*) FROM decisions d
			WHERE d.id >= ? AND d.id < ? AND d.shadow_ref IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)
			GROUP BY d.action, d.shadow_ref, d.point_ref, d.client_ref`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: shadow counts: %w", err)
		}
		for rows.Next() {
			var r raw
			if err := rows.Scan(&r.action, &r.shadow, &r.point, &r.client, &r.n); err != nil {
				rows.Close()
				return nil, err
			}
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var refs []int64
	for _, r := range rs {
		refs = append(refs, r.point, r.client)
	}
	names, err := s.refNames(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make([]ShadowCount, 0, len(rs))
	for _, r := range rs {
		out = append(out, ShadowCount{Enforced: r.action, Shadow: outs[r.shadow].Action,
			Point: strings.TrimPrefix(names[r.point], refPoint), ClientID: strings.TrimPrefix(names[r.client], refClient), Count: r.n})
	}
	return out, nil
}

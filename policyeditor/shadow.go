package policyeditor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"portico/store"
)

// Report-only (shadow) mode: a saved version of a policy attached beside
// its enforced one. The Engine decides every request with both, enforces
// only the current version, and logs the shadow's decision with it; the
// policy page counts where they disagree; Promote makes the shadow the
// enforced version. A policy has at most one shadow, and it goes wherever
// the policy is attached.

// ErrNotShadow is returned by Promote when the version is not (or no
// longer) the report-only one: a second click, or someone else's change.
var ErrNotShadow = errors.New("policyeditor: that version is not in report-only mode")

// SaveShadow compiles doc and stores it as a new version of policyID that
// is not enforced but attached in report-only mode. An invalid document is
// refused whole with FieldErrors; a document of another kind than the
// policy is refused too (the shadow sees the same requests).
func (s *Service) SaveShadow(ctx context.Context, actor store.Actor, policyID string, doc Document, note string) (Saved, error) {
	if _, err := Compile(doc); err != nil {
		return Saved{}, err
	}
	body, err := MarshalDocument(doc)
	if err != nil {
		return Saved{}, err
	}
	var out Saved
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		p, err := tx.Policy(ctx, policyID)
		if err != nil {
			return err
		}
		if p.Kind != string(doc.Kind) {
			return FieldErrors{{Path: "kind", Message: fmt.Sprintf("a report-only version must be %s, like the version it runs beside", p.Kind)}}
		}
		v := store.PolicyVersion{Document: body, AuthorID: actor.UserID, Author: actor.Label, Note: note}
		if err := tx.AddShadowVersion(ctx, policyID, &v); err != nil {
			return err
		}
		if p, err = tx.Policy(ctx, policyID); err != nil {
			return err
		}
		out = Saved{Policy: p, Version: v}
		return s.auditShadow(ctx, tx, actor, "policy.shadow", p, v.Version)
	})
	return out, err
}

// AttachShadow attaches saved version n of policyID in report-only mode.
func (s *Service) AttachShadow(ctx context.Context, actor store.Actor, policyID string, n int) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		v, err := tx.PolicyVersion(ctx, policyID, n)
		if err != nil {
			return err
		}
		doc, err := storedDocument(v)
		if err != nil {
			return err
		}
		p, err := tx.Policy(ctx, policyID)
		if err != nil {
			return err
		}
		if p.Kind != string(doc.Kind) {
			return fmt.Errorf("%w: version %d is %s, the policy %s", ErrWrongKind, n, doc.Kind, p.Kind)
		}
		if err := tx.SetPolicyShadow(ctx, policyID, n); err != nil {
			return err
		}
		return s.auditShadow(ctx, tx, actor, "policy.shadow", p, n)
	})
}

// DetachShadow ends report-only mode; the version stays in the history.
func (s *Service) DetachShadow(ctx context.Context, actor store.Actor, policyID string) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		p, err := tx.Policy(ctx, policyID)
		if err != nil {
			return err
		}
		if p.ShadowVersion == 0 {
			return nil
		}
		if err := tx.SetPolicyShadow(ctx, policyID, 0); err != nil {
			return err
		}
		return s.auditShadow(ctx, tx, actor, "policy.shadow_detach", p, p.ShadowVersion)
	})
}

// Promote makes report-only version n of policyID the enforced version, in
// one audited step. It is undone by restoring the version enforced before
// (the audit event names it).
func (s *Service) Promote(ctx context.Context, actor store.Actor, policyID string, n int) (store.Policy, error) {
	var after store.Policy
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		before, err := tx.PromoteShadow(ctx, policyID, n)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: %w", ErrNotShadow, err)
		}
		if err != nil {
			return err
		}
		if after, err = tx.Policy(ctx, policyID); err != nil {
			return err
		}
		e := actor.Event("", "policy.promote", "policy", policyID)
		if s.Now != nil {
			e.At = s.Now()
		}
		return tx.Audit(ctx, e, map[string]any{"policy": before, "enforced_version": before.CurrentVersion},
			map[string]any{"policy": after, "enforced_version": after.CurrentVersion, "promoted_from_report_only": n,
				"undo": fmt.Sprintf("restore version %d", before.CurrentVersion)})
	})
	return after, err
}

func (s *Service) auditShadow(ctx context.Context, tx *store.Store, actor store.Actor, action string, p store.Policy, n int) error {
	e := actor.Event("", action, "policy", p.ID)
	if s.Now != nil {
		e.At = s.Now()
	}
	return tx.Audit(ctx, e, nil, map[string]any{"policy": p, "report_only_version": n})
}

// Disagreement summarises a report-only version's decisions beside the
// enforced ones since it was attached.
type Disagreement struct {
	Version int
	Since   time.Time
	// Total decisions made with the shadow attached; Disagreed of them
	// were decided differently.
	Total, Disagreed int64
	// Cells are (enforced, shadow) action pairs that differ, most first;
	// Where are the points and apps they happened at, most first.
	Cells []store.ShadowCount
	Where []store.ShadowCount
}

// ShadowTally keeps the disagreement counts of report-only versions so
// that the policy page, which refreshes every few seconds, counts only the
// decisions logged since it last asked: the counts up to a minute ago are
// kept (the recorder writes a decision well within that), the last minute
// is counted afresh each time. The zero value is ready; it is safe for
// concurrent use and holds one entry per attached report-only version.
type ShadowTally struct {
	mu sync.Mutex
	m  map[tallyKey]*tally
}

type tallyKey struct {
	policyID string
	version  int
	since    int64
}

type tally struct {
	until  time.Time // counts cover [since, until)
	counts []store.ShadowCount
}

// settle is how far behind now the kept counts stop.
const settle = time.Minute

// Disagreements counts how the report-only version of p disagreed with the
// enforced one since it was attached (zero Version: none attached), as of
// now.
func (t *ShadowTally) Disagreements(ctx context.Context, st *store.Store, p store.Policy, now time.Time) (Disagreement, error) {
	out := Disagreement{Version: p.ShadowVersion, Since: p.ShadowSince}
	if p.ShadowVersion == 0 {
		return out, nil
	}
	key := tallyKey{p.ID, p.ShadowVersion, p.ShadowSince.UnixMilli()}
	t.mu.Lock()
	if t.m == nil {
		t.m = map[tallyKey]*tally{}
	}
	tl := t.m[key]
	if tl == nil {
		if len(t.m) >= 1000 {
			clear(t.m)
		}
		tl = &tally{until: p.ShadowSince}
		t.m[key] = tl
	}
	// One caller at a time extends a tally; the lock is per process and the
	// work is only what was logged since the last call.
	defer t.mu.Unlock()
	if settled := now.Add(-settle); settled.After(tl.until) {
		more, err := st.ShadowCounts(ctx, p.ID, p.ShadowVersion, tl.until, settled)
		if err != nil {
			return out, err
		}
		tl.counts, tl.until = mergeCounts(tl.counts, more), settled
	}
	recent, err := st.ShadowCounts(ctx, p.ID, p.ShadowVersion, tl.until, time.Time{})
	if err != nil {
		return out, err
	}
	return summarize(out, mergeCounts(slices.Clone(tl.counts), recent)), nil
}

// mergeCounts adds b's counts into a, by their keys.
func mergeCounts(a, b []store.ShadowCount) []store.ShadowCount {
	for _, c := range b {
		found := false
		for i := range a {
			if a[i].Enforced == c.Enforced && a[i].Shadow == c.Shadow && a[i].Point == c.Point && a[i].ClientID == c.ClientID {
				a[i].Count += c.Count
				found = true
				break
			}
		}
		if !found {
			a = append(a, c)
		}
	}
	return a
}

// Disagreements counts how the report-only version of p disagreed with the
// enforced one since it was attached, reading every decision since then
// (the CLI; pages use a ShadowTally).
func (s *Service) Disagreements(ctx context.Context, p store.Policy) (Disagreement, error) {
	out := Disagreement{Version: p.ShadowVersion, Since: p.ShadowSince}
	if p.ShadowVersion == 0 {
		return out, nil
	}
	counts, err := s.Store.ShadowCounts(ctx, p.ID, p.ShadowVersion, p.ShadowSince, time.Time{})
	if err != nil {
		return out, err
	}
	return summarize(out, counts), nil
}

func summarize(out Disagreement, counts []store.ShadowCount) Disagreement {
	type pair struct{ a, b string }
	cells := map[pair]int64{}
	where := map[pair]int64{}
	for _, c := range counts {
		out.Total += c.Count
		if c.Enforced == c.Shadow {
			continue
		}
		out.Disagreed += c.Count
		cells[pair{c.Enforced, c.Shadow}] += c.Count
		where[pair{c.Point, c.ClientID}] += c.Count
	}
	for k, n := range cells {
		out.Cells = append(out.Cells, store.ShadowCount{Enforced: k.a, Shadow: k.b, Count: n})
	}
	for k, n := range where {
		out.Where = append(out.Where, store.ShadowCount{Point: k.a, ClientID: k.b, Count: n})
	}
	sortCounts(out.Cells)
	sortCounts(out.Where)
	return out
}

// sortCounts orders most first, then by key (stable output for pages).
func sortCounts(cs []store.ShadowCount) {
	key := func(c store.ShadowCount) string { return c.Enforced + c.Shadow + c.Point + c.ClientID }
	slices.SortFunc(cs, func(a, b store.ShadowCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(key(a), key(b)))
	})
}

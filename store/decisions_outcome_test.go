package store

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestOutcomeRefCache checks that the cached outcome reference is the
// marshalled one, for outcomes seen before and after the cache was
// emptied at its bound, and that parseOutcome reads it back.
func TestOutcomeRefCache(t *testing.T) {
	defer func(n int64) { outcomeRefsMax = n }(outcomeRefsMax)
	outcomeRefsMax = 16
	for round := range 3 {
		for i := range 40 {
			o := outcome{PolicyID: fmt.Sprintf("p%d", i%7), Version: i % 3, Rule: i, Action: "deny", Reason: fmt.Sprintf(`rule %d "<&>"`, i)}
			b, _ := json.Marshal([]any{o.PolicyID, o.Version, o.Rule, o.Action, o.Reason})
			if got, want := o.ref(), refOutcome+string(b); got != want {
				t.Fatalf("round %d outcome %d: %q, want %q", round, i, got, want)
			}
			if back := parseOutcome(o.ref()); back != o {
				t.Fatalf("round %d outcome %d: read back %+v", round, i, back)
			}
		}
		if n := nOutcomeRefs.Load(); n > outcomeRefsMax {
			t.Fatalf("cache holds %d outcomes, bound %d", n, outcomeRefsMax)
		}
	}
}

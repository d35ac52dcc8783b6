package policyeditor

import "context"

// Resolved is the policy an evaluation meets, as the engine knew it when
// it was resolved: a page that previews many decisions under the same
// policy (the dashboard's badges) resolves it once and decides each
// preview without going back to the engine.
type Resolved struct {
	pol     *Policy
	id      string
	version int
}

// Resolve finds the policy ev meets, revalidating the engine's caches as
// Decide would. Evaluations that differ from ev only in the client's own
// fields (ClientID, Request.Client) and StepUp meet the same policy as
// long as their ClientPolicyID and Point are ev's.
func (e *Engine) Resolve(ctx context.Context, ev *Evaluation) (Resolved, error) {
	pol, id, version, _, _, err := e.policyFor(ctx, ev)
	if err != nil || pol == nil {
		return Resolved{}, err
	}
	return Resolved{pol: pol, id: id, version: version}, nil
}

// Applied reports whether a policy applies at all.
func (r Resolved) Applied() bool { return r.pol != nil }

// Preview is what Decide would answer for ev under r, without recording
// anything (no DecisionID) and without the report-only version's decision.
// Without a policy the Outcome is not Applied.
func (r Resolved) Preview(ev *Evaluation) Outcome {
	if r.pol == nil {
		return Outcome{}
	}
	out := Outcome{Applied: true, PolicyID: r.id, PolicyName: r.pol.Name(), Version: r.version}
	out.Decision = decideWith(r.pol, ev.Point, &ev.Request, ev.StepUp)
	if r.pol.Kind() == ev.Point.Kind() {
		out.Blame = r.pol.Blame(&ev.Request, out.Decision, ev.StepUp)
	}
	return out
}

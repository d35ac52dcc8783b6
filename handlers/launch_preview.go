package handlers

import (
	"context"

	"portico/policyeditor"
	"portico/store"
)

// badgePreview answers the dashboard's badges for one request: what
// launching each app now would meet. The request's policy question is
// built once; each app only fills in its own fields. The policy is looked
// up once per distinct policy (an app's own, or the portal's for apps
// without one), not once per tile, and nothing is recorded: badges are a
// preview, the launch decides again.
type badgePreview struct {
	eng *policyeditor.Engine
	ctx context.Context
	ev  *policyeditor.Evaluation // reused from tile to tile
	// policies are the policies resolved so far, by the app's own policy
	// ID ("" for the portal's); a page has few, so a slice beats a map.
	policies []resolvedPolicy
}

type resolvedPolicy struct {
	clientPolicyID string
	r              policyeditor.Resolved
	ok             bool // false when resolving failed: such badges say nothing
}

// badges prepares the previews for v's request with facts f; nil (every
// badge empty) when there is no policy engine.
func (h *Launch) badges(ctx context.Context, v *Viewer, f policyFacts) *badgePreview {
	if h.Preview == nil {
		return nil
	}
	return &badgePreview{eng: h.Preview, ctx: ctx, ev: h.evaluation(v, store.Client{}, f, false)}
}

// badge is app's badge: "" (go ahead), "mfa" (step-up needed), or why it
// would be refused: "blocked" (network), "group" or "denied".
func (b *badgePreview) badge(app store.Client) string {
	if b == nil {
		return ""
	}
	r, ok := b.resolve(app.PolicyID)
	if !ok || !r.Applied() {
		return ""
	}
	ev := b.ev
	// The same fields evaluation sets from the app.
	ev.ClientID, ev.ClientPolicyID, ev.StepUp = app.ClientID, app.PolicyID, false
	ev.Request.Client = policyeditor.Client{ID: app.ClientID, Scopes: app.Scopes, Type: string(app.Type)}
	out := r.Preview(ev)
	if out.Action == policyeditor.Challenge {
		// A challenge the policy would follow with a denial is a denial:
		// the tile says so instead of promising access after MFA.
		ev.StepUp = true
		after := r.Preview(ev)
		if after.Action != policyeditor.Deny {
			return "mfa"
		}
		out = after
	}
	if out.Action != policyeditor.Deny {
		return ""
	}
	switch out.Blame {
	case policyeditor.BlameGroup:
		return "group"
	case policyeditor.BlameNetwork:
		return "blocked"
	}
	return "denied"
}

// resolve returns the policy an app with this policy ID meets, resolving
// it on first use.
func (b *badgePreview) resolve(clientPolicyID string) (policyeditor.Resolved, bool) {
	for _, p := range b.policies {
		if p.clientPolicyID == clientPolicyID {
			return p.r, p.ok
		}
	}
	b.ev.ClientPolicyID = clientPolicyID
	r, err := b.eng.Resolve(b.ctx, b.ev)
	b.policies = append(b.policies, resolvedPolicy{clientPolicyID: clientPolicyID, r: r, ok: err == nil})
	return r, err == nil
}

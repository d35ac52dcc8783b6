package policyeditor

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"portico/store"
)

// Point is where a policy is evaluated. The names are the decision log's
// "point" column.
type Point string

// Evaluation points.
const (
	PointSignIn            Point = "signin"
	PointLaunch            Point = "launch"
	PointAuthorize         Point = "authorize"
	PointRefresh           Point = "refresh"
	PointClientCredentials Point = "client_credentials"
	PointTokenExchange     Point = "token_exchange"
	PointRegistration      Point = "registration"
	// PointAPIRequest is the authorizer: a gateway asks about one API call.
	PointAPIRequest Point = "api_request"
)

// Points lists the evaluation points, for filters.
func Points() []Point {
	return []Point{PointSignIn, PointLaunch, PointAuthorize, PointRefresh, PointClientCredentials, PointTokenExchange, PointRegistration, PointAPIRequest}
}

// Kind is the kind of policy evaluated at p.
func (p Point) Kind() Kind {
	switch p {
	case PointClientCredentials, PointTokenExchange:
		return KindMachineToMachine
	case PointRegistration:
		return KindClientRegistration
	case PointAPIRequest:
		return KindAPIRequest
	}
	return KindUserAccess
}

// Evaluation is one question to the Engine: who asks where, and the Request
// the policy decides on.
type Evaluation struct {
	Point Point
	// OrgID, UserID, Subject (an email, or a machine's client_id) and ClientID
	// (public client_id) go to the decision log.
	OrgID, UserID, Subject, ClientID string
	// ClientPolicyID is the application's own policy (store.Client.PolicyID),
	// which wins over the portal's or the global one.
	ClientPolicyID string
	// PlanID selects a per-plan registration policy.
	PlanID string
	// StepUp asks for the evaluation after a passed step-up (AfterStepUp).
	StepUp bool
	// Tentative leaves a Challenge out of the decision log: the caller
	// does not act on it but sends the person to a page that asks again
	// (and records), so the attempt is logged once.
	Tentative bool
	Request   Request
}

// NewEvaluation is the question every front door asks about a person (user
// nil for a machine) acting for org: the decision-log identity and the
// Request facts the store holds — the organization's slug, plan and
// partnership end, the user's groups, attributes and remembered locations —
// with the live address and country. The caller adds what only it knows:
// the client, the session's MFA time and connection, and StepUp.
func NewEvaluation(point Point, now time.Time, org store.Organization, plan string, user *store.User, locs []store.Location, ip netip.Addr, country string) *Evaluation {
	ev := &Evaluation{Point: point, OrgID: org.ID, PlanID: org.PlanID}
	r := &ev.Request
	r.Now, r.Org, r.Plan, r.ValidUntil, r.IP, r.Country = now, org.Slug, plan, org.ValidUntil, ip, country
	r.OrgAttributes = org.Attributes
	if user != nil {
		ev.UserID, ev.Subject = user.ID, user.Email
		r.Attributes, r.User.Groups = user.Attributes, user.Groups()
		for _, l := range locs {
			r.User.Locations = append(r.User.Locations, l.Network)
		}
	}
	return ev
}

// Outcome is the Engine's answer.
type Outcome struct {
	Decision
	// Applied is false when no policy is attached at the point: nothing was
	// evaluated or recorded, and the caller's own checks decide alone.
	Applied bool
	// DecisionID is the decision's reference in the log.
	DecisionID string
	PolicyID   string
	PolicyName string
	Version    int
	// Shadow is the report-only version's decision when the policy has one
	// attached (ShadowVersion > 0): logged beside Decision, never enforced.
	Shadow        Decision
	ShadowVersion int
	// Blame is what the decision turned on, for people (see Policy.Blame).
	Blame Blame
}

// Engine evaluates the policy attached at a point and records the decision.
// Compiled policies are cached by (policy, version) — versions are immutable
// — and which version is current, and what is attached where, is reloaded
// whenever store.DataVersion says another connection or process (the CLI)
// has committed, so a change is seen by the very next request.
type Engine struct {
	st  *store.Store
	rec *Recorder
	// Revalidate is how often, at most, the engine asks the database whether
	// anything changed. Zero asks on every decision; the server sets a few
	// milliseconds, because the question goes through one shared connection
	// and would otherwise serialize every token request behind it.
	Revalidate time.Duration

	mu        sync.Mutex
	checkedAt time.Time
	loadedAt  int64
	loaded    bool
	heads     map[string]int
	shadows   map[string]int // policy ID -> report-only version
	attached  map[attachKey]string
	routes    []store.APIRoute // most specific first
	compiled  map[versionKey]*Policy
}

type attachKey struct {
	point  store.AttachPoint
	target string
}

type versionKey struct {
	id      string
	version int
}

// maxCompiled bounds the cache; past it the cache starts over, which costs
// one compile per live policy.
const maxCompiled = 512

// NewEngine returns an Engine over st that records through rec (nil: do not
// record, for tools that only ask).
func NewEngine(st *store.Store, rec *Recorder) *Engine {
	return &Engine{st: st, rec: rec, compiled: map[versionKey]*Policy{}}
}

// Decide evaluates the policy that applies to ev and records the decision.
// A policy whose kind does not fit the point denies (fail closed).
func (e *Engine) Decide(ctx context.Context, ev *Evaluation) (Outcome, error) {
	pol, id, version, shadow, shadowVersion, err := e.policyFor(ctx, ev)
	if err != nil || pol == nil {
		return Outcome{}, err
	}
	out := Resolved{pol: pol, id: id, version: version}.Preview(ev)
	d := store.Decision{At: ev.Request.Now, Point: string(ev.Point), OrgID: ev.OrgID, UserID: ev.UserID,
		Subject: ev.Subject, ClientID: ev.ClientID, PolicyID: id, PolicyVersion: version,
		Rule: out.Rule, Action: out.Action.String(), Reason: out.Reason}
	if shadow != nil {
		out.Shadow, out.ShadowVersion = decideWith(shadow, ev.Point, &ev.Request, ev.StepUp), shadowVersion
		d.ShadowVersion, d.ShadowRule, d.ShadowAction, d.ShadowReason = shadowVersion, out.Shadow.Rule,
			out.Shadow.Action.String(), out.Shadow.Reason
	}
	if e.rec != nil && !(ev.Tentative && out.Action == Challenge) {
		// The decision is durable before anyone acts on it: an error here
		// refuses the request rather than issue what the log lacks.
		if out.DecisionID, err = e.rec.Record(ctx, d, &ev.Request, ev.StepUp); err != nil {
			return Outcome{}, fmt.Errorf("policyeditor: record decision: %w", err)
		}
	}
	return out, nil
}

// decideWith is one policy's answer to req at point (after step-up when
// stepUp); a policy whose kind does not fit the point denies. Live
// decisions and Replay both decide through it.
func decideWith(pol *Policy, point Point, req *Request, stepUp bool) Decision {
	switch {
	case pol.Kind() != point.Kind():
		return Decision{Action: Deny, Reason: fmt.Sprintf("policy %q is %s and cannot decide %s; denied", pol.Name(), pol.Kind(), point)}
	case stepUp:
		return pol.AfterStepUp(req)
	}
	return pol.Evaluate(req)
}

// revalidate asks the database's data version and reloads the caches when
// it moved. Call with e.mu held.
func (e *Engine) revalidate(ctx context.Context, now time.Time) error {
	dv, err := e.st.DataVersion(ctx)
	if err != nil {
		return fmt.Errorf("policyeditor: data version: %w", err)
	}
	e.checkedAt = now
	if !e.loaded || dv != e.loadedAt {
		if err := e.reload(ctx); err != nil {
			return err
		}
		e.loaded, e.loadedAt = true, dv
	}
	return nil
}

// Record logs a decision the engine did not make itself — the authorizer's
// refusal of a token, or a call no policy covers — through the same
// recorder, and returns its reference ("" when not recording) once it is
// durable.
func (e *Engine) Record(ctx context.Context, ev *Evaluation, d Decision) (string, error) {
	if e.rec == nil {
		return "", nil
	}
	return e.rec.Record(ctx, store.Decision{At: ev.Request.Now, Point: string(ev.Point), OrgID: ev.OrgID, UserID: ev.UserID,
		Subject: ev.Subject, ClientID: ev.ClientID, Action: d.Action.String(), Reason: d.Reason}, &ev.Request, false)
}

// policyFor resolves the attachment and returns the compiled current
// version, or a nil Policy when nothing is attached, and the compiled
// report-only version when the policy has one.
func (e *Engine) policyFor(ctx context.Context, ev *Evaluation) (pol *Policy, id string, version int, shadow *Policy, shadowVersion int, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// A wall-clock read here only paces cache checks; decisions use ev's clock.
	now := time.Now()
	if !e.loaded || e.Revalidate <= 0 || now.Sub(e.checkedAt) >= e.Revalidate {
		if err := e.revalidate(ctx, now); err != nil {
			return nil, "", 0, nil, 0, err
		}
	}
	id = e.resolve(ev)
	if id == "" {
		return nil, "", 0, nil, 0, nil
	}
	version, ok := e.heads[id]
	if !ok {
		// The client names a policy that no longer exists: fail closed.
		return nil, "", 0, nil, 0, fmt.Errorf("policyeditor: attached policy %s: %w", id, store.ErrNotFound)
	}
	if pol, err = e.compiledVersion(ctx, id, version); err != nil {
		return nil, "", 0, nil, 0, err
	}
	if sv := e.shadows[id]; sv != 0 && sv != version {
		// A shadow that cannot be read must not stop the enforced decision.
		if shadow, err = e.compiledVersion(ctx, id, sv); err == nil {
			shadowVersion = sv
		}
	}
	return pol, id, version, shadow, shadowVersion, nil
}

// compiledVersion returns version of policy id compiled, from the cache.
func (e *Engine) compiledVersion(ctx context.Context, id string, version int) (*Policy, error) {
	key := versionKey{id, version}
	if pol, ok := e.compiled[key]; ok {
		return pol, nil
	}
	v, err := e.st.PolicyVersion(ctx, id, version)
	if err != nil {
		return nil, err
	}
	pol, err := CompileJSON(v.Document)
	if err != nil {
		return nil, fmt.Errorf("policyeditor: stored policy %s version %d: %w", id, version, err)
	}
	if len(e.compiled) >= maxCompiled {
		clear(e.compiled)
	}
	e.compiled[key] = pol
	return pol, nil
}

// resolve picks the policy for ev: the application's own, else the portal's
// (user access), the global machine-to-machine one, or the plan's then the
// global registration one.
func (e *Engine) resolve(ev *Evaluation) string {
	if ev.Point == PointAPIRequest {
		return matchRoute(e.routes, &ev.Request.HTTP)
	}
	if ev.ClientPolicyID != "" && ev.Point != PointRegistration && ev.Point != PointSignIn {
		return ev.ClientPolicyID
	}
	switch ev.Point.Kind() {
	case KindMachineToMachine:
		return e.attached[attachKey{store.AttachM2M, ""}]
	case KindClientRegistration:
		if id := e.attached[attachKey{store.AttachRegistration, ev.PlanID}]; id != "" && ev.PlanID != "" {
			return id
		}
		return e.attached[attachKey{store.AttachRegistration, ""}]
	}
	return e.attached[attachKey{store.AttachPortal, ""}]
}

func (e *Engine) reload(ctx context.Context) error {
	heads, err := e.st.PolicyHeads(ctx)
	if err != nil {
		return err
	}
	as, err := e.st.Attachments(ctx, "")
	if err != nil {
		return err
	}
	routes, err := e.st.APIRoutes(ctx, "")
	if err != nil {
		return err
	}
	shadows, err := e.st.PolicyShadows(ctx)
	if err != nil {
		return err
	}
	sortRoutes(routes)
	e.heads, e.routes, e.shadows = heads, routes, shadows
	e.attached = make(map[attachKey]string, len(as))
	for _, a := range as {
		e.attached[attachKey{a.Point, a.Target}] = a.PolicyID
	}
	return nil
}

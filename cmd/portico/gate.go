package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
)

// policyGate is the authorization server's Gate backed by the policy
// engine: it turns a GateRequest into a policyeditor Request, evaluates the
// policy attached where the request is (the app's own, else the portal's,
// the global machine-to-machine one, or the plan's or global registration
// one), and answers with the decision's reference. It lives here because
// authserver and policyeditor must not import each other; main wires them.
//
// It is meant to run after authserver.DefaultGate in an authserver.Chain,
// so the organization, partnership window, client and user checks always
// apply first, and a point with no policy attached is decided by them alone.
type policyGate struct {
	st     *store.Store
	engine *policyeditor.Engine
	loc    policyeditor.Locator
	log    *slog.Logger
}

// newPolicyGate returns the gate chain for authserver.Config.Gate over the
// engine the portal's launch decisions share, so every decision goes through
// one recorder.
func newPolicyGate(st *store.Store, engine *policyeditor.Engine, loc policyeditor.Locator, log *slog.Logger) authserver.Gate {
	return authserver.Chain{authserver.DefaultGate{}, &policyGate{st: st, engine: engine, loc: loc, log: log}}
}

// gatePoints maps the server's points to the decision log's.
var gatePoints = map[authserver.Point]policyeditor.Point{
	authserver.PointAuthorize:         policyeditor.PointAuthorize,
	authserver.PointRefresh:           policyeditor.PointRefresh,
	authserver.PointClientCredentials: policyeditor.PointClientCredentials,
	authserver.PointTokenExchange:     policyeditor.PointTokenExchange,
	// The app a token exchange names as audience is asked what /authorize
	// would ask it: its user-access policy decides for the person.
	authserver.PointTokenExchangeAudience: policyeditor.PointAuthorize,
	authserver.PointRegistration:          policyeditor.PointRegistration,
	// A trusted issuer's assertion is machine to machine for the client, as
	// token exchange is; the subject it vouches for is then asked about as
	// user access at each app, as /authorize would ask.
	authserver.PointJWTBearer:       policyeditor.PointTokenExchange,
	authserver.PointExternalSubject: policyeditor.PointAuthorize,
	authserver.PointAPIRequest:      policyeditor.PointAPIRequest,
}

// Check implements authserver.Gate.
func (g *policyGate) Check(ctx context.Context, req authserver.GateRequest) (authserver.Verdict, error) {
	ev, err := g.evaluation(ctx, req)
	if err != nil {
		return authserver.Verdict{Action: authserver.Deny, Reason: "the access decision failed"}, err
	}
	ev.Tentative = req.Tentative
	out, err := g.engine.Decide(ctx, ev)
	if err != nil {
		return authserver.Verdict{Action: authserver.Deny, Reason: "the access decision failed"}, err
	}
	if !out.Applied {
		return authserver.Verdict{Action: authserver.Permit}, nil
	}
	v := authserver.Verdict{Action: authserver.Deny, Reason: out.Reason, DecisionID: out.DecisionID}
	switch out.Action {
	case policyeditor.Permit:
		v.Action = authserver.Permit
	case policyeditor.Challenge:
		v.Action, v.StepUpWith = authserver.Challenge, out.StepUpMethods()
	}
	return v, nil
}

// evaluation maps a GateRequest to the engine's question.
func (g *policyGate) evaluation(ctx context.Context, req authserver.GateRequest) (*policyeditor.Evaluation, error) {
	point, ok := gatePoints[req.Point]
	if !ok {
		return nil, fmt.Errorf("policy gate: unknown point %q", req.Point)
	}
	var plan string
	if req.Plan != nil {
		plan = req.Plan.Slug
	}
	ip, country := req.Context.IP, req.Context.Country
	if country == "" && ip.IsValid() && g.loc != nil {
		country = g.loc.Country(ip)
	}
	var locs []store.Location
	if req.User != nil && ip.IsValid() && req.Point != authserver.PointAPIRequest {
		// Remembered locations come from the store, which step-up keeps; the
		// request's NewLocation flag only adds what the store cannot know yet.
		var err error
		if locs, err = g.st.Locations(ctx, req.User.ID); err != nil {
			return nil, err
		}
	}
	ev := policyeditor.NewEvaluation(point, req.Now, req.Org, plan, req.User, locs, ip, country)
	ev.StepUp = req.Context.SteppedUp
	r := &ev.Request
	client := req.Client
	if client == nil {
		client = req.Registering
	}
	if client != nil {
		ev.ClientID, r.Client.ID, r.Client.Type = client.ClientID, client.ClientID, string(client.Type)
		if req.Client != nil {
			ev.ClientPolicyID = req.Client.PolicyID
		}
	}
	r.Client.Scopes = req.Scopes
	r.Issuer = req.Context.Issuer
	if req.User != nil {
		r.User.MFAAt, r.User.ConnectionID = req.Context.MFAAt, req.Context.ConnectionID
		r.User.AuthMethods = req.Context.AuthMethods
		if r.User.AuthMethods == nil && len(req.Context.AMR) > 0 {
			// A token's amr (refresh, token exchange): every method counts
			// as used at its auth_time, all that the token says.
			r.User.AuthMethods = make(map[string]time.Time, len(req.Context.AMR))
			for _, m := range req.Context.AMR {
				r.User.AuthMethods[m] = req.Context.AuthTime
			}
		}
		if req.Context.NewLocation && ip.IsValid() {
			r.User.Locations = dropLocation(r.User.Locations, policyeditor.LocationOf(ip))
		}
	} else if client != nil {
		ev.Subject = client.ClientID
	}
	if a := req.API; a != nil {
		r.HTTP = policyeditor.HTTPRequest{Method: a.Method, Path: a.Path, Host: a.Host, API: a.API, Header: a.Header, Query: a.Query}
		r.Token = policyeditor.Token{IssuedAt: a.IssuedAt, SenderConstrained: a.SenderConstrained, Features: a.Features}
		if req.User != nil {
			// The token's groups are what the API sees; the user's current
			// ones may have changed since, and the store's win.
			r.User.Groups = req.User.Groups()
		} else {
			r.User.Groups = a.Groups
		}
		// An API request is decided by the route's policy, never the app's.
		ev.ClientPolicyID = ""
	}
	return ev, nil
}

// dropLocation removes loc from the remembered list, so a request the
// portal knows to be from a new place is judged as new.
func dropLocation(locs []netip.Prefix, loc netip.Prefix) []netip.Prefix {
	out := locs[:0:0]
	for _, l := range locs {
		if policyeditor.LocationOf(l.Addr()) != loc {
			out = append(out, l)
		}
	}
	return out
}

// recordAPI logs an authorizer answer the policy engine did not give (a
// refused token, a call no policy covers), for authserver.AuthorizerConfig.
func (g *policyGate) recordAPI(ctx context.Context, req authserver.GateRequest, v authserver.Verdict) string {
	if req.Now.IsZero() {
		return ""
	}
	ev, err := g.evaluation(ctx, req)
	if err != nil {
		g.log.ErrorContext(ctx, "authorizer: record decision", "err", err)
		return ""
	}
	d := policyeditor.Decision{Action: policyeditor.Deny, Reason: v.Reason}
	if v.Action == authserver.Permit {
		d.Action, d.Reason = policyeditor.Permit, "no API request policy covers this call; a valid token suffices"
	}
	id, err := g.engine.Record(ctx, ev, d)
	if err != nil {
		g.log.ErrorContext(ctx, "authorizer: record decision", "err", err)
	}
	return id
}

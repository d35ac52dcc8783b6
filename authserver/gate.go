package authserver

import (
	"context"
	"net/netip"
	"time"

	"portico/store"
)

// Point is where in the protocol the gate is consulted.
type Point string

// Gate points. Authorize and Refresh are user access; ClientCredentials and
// TokenExchange are machine to machine; Registration is client registration.
const (
	PointAuthorize         Point = "authorize"
	PointRefresh           Point = "refresh"
	PointClientCredentials Point = "client_credentials"
	PointTokenExchange     Point = "token_exchange"
	// PointTokenExchangeAudience is user access: may the person behind a
	// subject token use the app a token exchange names as its audience? It
	// is asked with that app as Client and the person as User.
	PointTokenExchangeAudience Point = "token_exchange_audience"
	PointRegistration          Point = "registration"
	// PointJWTBearer is machine to machine: may the client use a trusted
	// issuer's assertion (RFC 7523)? RequestContext.Issuer names the issuer.
	PointJWTBearer Point = "jwt_bearer"
	// PointExternalSubject is user access: may the subject a trusted issuer
	// vouched for (token exchange, JWT bearer) use the app? It is asked with
	// the app as Client and the external subject as a User without an ID.
	PointExternalSubject Point = "external_subject"
	// PointAPIRequest is the authorizer: may this API call go through? The
	// GateRequest carries API, and User is nil for a machine's token.
	PointAPIRequest Point = "api_request"
)

// Action is a gate's answer. The zero value is Deny, so a verdict nobody
// filled in refuses.
type Action int

// Actions.
const (
	Deny Action = iota
	Permit
	Challenge // step-up MFA, then ask again
)

// String returns permit, deny or challenge.
func (a Action) String() string {
	switch a {
	case Permit:
		return "permit"
	case Challenge:
		return "challenge"
	}
	return "deny"
}

// Verdict is a gate's decision. DecisionID refers to the recorded decision,
// so a refusal shown to a person can cite it.
type Verdict struct {
	Action     Action
	Reason     string
	DecisionID string
	// StepUpWith, for a Challenge, lists the amr values the step-up must
	// use (any one of them: "hwk", "swk" for a passkey); empty means any
	// second factor.
	StepUpWith []string
}

// RequestContext is what is known about the live request at a gate point.
type RequestContext struct {
	IP          netip.Addr
	Country     string
	NewLocation bool
	AuthTime    time.Time
	MFAAt       time.Time
	AMR         []string
	// AuthMethods are the session's amr values, each with when it was last
	// used (policy conditions on the method and its age read them).
	AuthMethods  map[string]time.Time
	ConnectionID string
	// SteppedUp is set on the second evaluation after a Challenge was met.
	SteppedUp bool
	// Issuer is the trusted external issuer whose token vouched for the
	// subject; empty for Portico's own subjects.
	Issuer string
}

// GateRequest is everything a gate may decide on. User is nil for machine
// points; Client is nil at registration (Registering describes the client
// being registered instead).
type GateRequest struct {
	Point       Point
	Now         time.Time
	Org         store.Organization
	Plan        *store.Plan
	Client      *store.Client
	Registering *store.Client
	User        *store.User
	Scopes      []string
	Context     RequestContext
	// API is the call the authorizer is asked about (PointAPIRequest only).
	API *APIFacts
	// Tentative: a Challenge is not acted on here but sent to a page that
	// asks again, so the gate need not record it (single sign-on at
	// /authorize falls back to the login page's step-up).
	Tentative bool
}

// Gate decides whether something may be issued. The policy engine plugs in
// here; the server declares the interface so that it does not depend on it.
type Gate interface {
	Check(ctx context.Context, req GateRequest) (Verdict, error)
}

// DefaultGate enforces what is known without policies: the client is
// enabled, its organization is active and inside its partnership window,
// the user is active and belongs to the client's organization.
type DefaultGate struct{}

// Check implements Gate.
func (DefaultGate) Check(_ context.Context, req GateRequest) (Verdict, error) {
	if reason := standing(req.Now, req.Org, req.Client, req.User); reason != "" {
		return Verdict{Action: Deny, Reason: reason}, nil
	}
	if req.User != nil && req.User.OrgID != req.Org.ID {
		return Verdict{Action: Deny, Reason: "the user belongs to another organization"}, nil
	}
	return Verdict{Action: Permit}, nil
}

// Chain asks each gate in turn; the first answer that is not Permit stands.
// Use it to put a policy gate after DefaultGate.
type Chain []Gate

// Check implements Gate.
func (c Chain) Check(ctx context.Context, req GateRequest) (Verdict, error) {
	v := Verdict{Action: Permit}
	for _, g := range c {
		var err error
		if v, err = g.Check(ctx, req); err != nil || v.Action != Permit {
			return v, err
		}
	}
	return v, nil
}

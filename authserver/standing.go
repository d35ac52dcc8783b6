package authserver

import (
	"context"
	"time"

	"portico/store"
)

// standing is the one place that says whether an organization, its client
// and its user may be issued anything at now: the partnership window (via
// Organization.InactiveReason), suspension, the client's enabled flag and
// the user's status. It returns "" when they may. The server checks it at
// every issuance before it asks the gate, so no gate can forget it.
func standing(now time.Time, org store.Organization, c *store.Client, u *store.User) string {
	if r := org.InactiveReason(now); r != "" {
		return r
	}
	if c != nil && !c.Enabled {
		return "the client is disabled"
	}
	if u != nil && u.Status != store.UserActive {
		return "the user is disabled"
	}
	return ""
}

// orgStore reads an organization and its plan.
type orgStore interface {
	Organization(ctx context.Context, id string) (store.Organization, error)
	Plan(ctx context.Context, id string) (store.Plan, error)
}

// orgAndPlan loads organization orgID and its plan (nil without one): what
// the standing check, the gate and the plan's bounds need.
func orgAndPlan(ctx context.Context, st orgStore, orgID string) (store.Organization, *store.Plan, error) {
	org, err := st.Organization(ctx, orgID)
	if err != nil || org.PlanID == "" {
		return org, nil, err
	}
	p, err := st.Plan(ctx, org.PlanID)
	if err != nil {
		return org, nil, err
	}
	return org, &p, nil
}

// decide runs the standing check and then the gate. A standing failure is
// a Deny whatever the gate would say.
func (s *Server) decide(ctx context.Context, req GateRequest) (Verdict, error) {
	req.Now = s.now()
	if r := standing(req.Now, req.Org, req.Client, req.User); r != "" {
		return Verdict{Action: Deny, Reason: r}, nil
	}
	v, err := s.gate.Check(ctx, req)
	if err != nil {
		return Verdict{Action: Deny, Reason: "the access decision failed"}, err
	}
	return v, nil
}

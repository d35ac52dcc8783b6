package authserver

import (
	"context"
	"errors"

	"portico/store"
)

// forUser returns the entry to issue under for user. An app that another
// organization (in practice the platform) shares with the user's
// organization issues as the user's organization: its slug and plan
// features go into the tokens, its standing (suspension, partnership
// window) is what is checked, and its policies decide, as they would for
// one of its own apps. The sharing organization must itself be in good
// standing. Anything else keeps the client's own organization, and the
// DefaultGate then refuses a user of another one.
func (s *Server) forUser(ctx context.Context, e *clientEntry, u store.User) (*clientEntry, error) {
	if e.metadata != nil {
		b, err := s.metadataForUser(ctx, e, u)
		if errors.Is(err, errOrgRefusesMetadata) {
			return nil, invalidGrant(err.Error())
		}
		return b, err
	}
	if u.OrgID == e.org.ID || e.org.InactiveReason(s.now()) != "" {
		return e, nil
	}
	org, plan, err := orgAndPlan(ctx, s.st, u.OrgID)
	if err != nil {
		return nil, err
	}
	if _, err := s.st.SharedClient(ctx, org.ID, org.PlanID, e.client.ClientID); errors.Is(err, store.ErrNotFound) {
		return e, nil
	} else if err != nil {
		return nil, err
	}
	shared := *e // the client, and the scopes its owner's plan allows, stay
	shared.org, shared.plan = org, plan
	return &shared, nil
}

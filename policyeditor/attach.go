package policyeditor

import (
	"context"
	"errors"
	"fmt"

	"portico/store"
)

// Target is where a policy is attached: an application (ClientID), or one of
// the points without an application (Point, with Plan for registration of
// one plan). Exactly one of ClientID and Point is set.
type Target struct {
	ClientID string
	Point    store.AttachPoint
	// Plan is a plan ID; only for store.AttachRegistration.
	Plan string
}

// String describes the target for people: "app inventory-sync", "portal
// sign-in", "client registration for plan gold".
func (t Target) String() string {
	switch {
	case t.ClientID != "":
		return "app " + t.ClientID
	case t.Point == store.AttachPortal:
		return "portal sign-in"
	case t.Point == store.AttachM2M:
		return "machine to machine (global)"
	case t.Point == store.AttachRegistration && t.Plan != "":
		return "client registration for plan " + t.Plan
	case t.Point == store.AttachRegistration:
		return "client registration (global)"
	}
	return "nothing"
}

// ErrWrongKind is returned when a policy's kind does not fit the target: a
// machine-to-machine policy on a web app would never see a user.
var ErrWrongKind = errors.New("policyeditor: the policy's kind does not fit this attachment")

// ErrUnknownAPI: a route names an API identifier that is not registered.
var ErrUnknownAPI = errors.New("policyeditor: no API is registered with this identifier")

// wantKind is the kind of policy a target evaluates.
func wantKind(t Target, app *store.AppRef) Kind {
	switch {
	case app != nil && app.Type == store.ClientService:
		return KindMachineToMachine
	case app != nil:
		return KindUserAccess
	case t.Point == store.AttachM2M:
		return KindMachineToMachine
	case t.Point == store.AttachRegistration:
		return KindClientRegistration
	}
	return KindUserAccess
}

// Attach makes policyID the policy of t (replacing what was there) after
// checking that its kind fits, and records who did it.
func (s *Service) Attach(ctx context.Context, actor store.Actor, policyID string, t Target) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		p, err := tx.Policy(ctx, policyID)
		if err != nil {
			return err
		}
		var app *store.AppRef
		if t.ClientID != "" {
			if app, err = findApp(ctx, tx, t.ClientID); err != nil {
				return err
			}
		} else if !t.Point.Valid() || (t.Plan != "" && t.Point != store.AttachRegistration) {
			return fmt.Errorf("policyeditor: cannot attach to %q/%q", t.Point, t.Plan)
		}
		if want := wantKind(t, app); Kind(p.Kind) != want {
			return fmt.Errorf("%w: %s needs a %s policy, and %q is %s", ErrWrongKind, t, want, p.Name, p.Kind)
		}
		var before string
		orgID := ""
		if app != nil {
			c, err := tx.SetClientPolicy(ctx, t.ClientID, policyID)
			if err != nil {
				return err
			}
			before, orgID = c.PolicyID, c.OrgID
		} else if before, err = tx.Attach(ctx, t.Point, t.Plan, policyID); err != nil {
			return err
		}
		e := actor.Event(orgID, "policy.attach", "policy", policyID)
		return tx.Audit(ctx, e, map[string]string{"target": t.String(), "policy_id": before},
			map[string]string{"target": t.String(), "policy_id": policyID})
	})
}

// Detach removes whatever policy t has.
func (s *Service) Detach(ctx context.Context, actor store.Actor, t Target) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		var before, orgID string
		if t.ClientID != "" {
			c, err := tx.SetClientPolicy(ctx, t.ClientID, "")
			if err != nil {
				return err
			}
			before, orgID = c.PolicyID, c.OrgID
		} else {
			var err error
			if before, err = tx.Detach(ctx, t.Point, t.Plan); err != nil {
				return err
			}
		}
		if before == "" {
			return nil
		}
		e := actor.Event(orgID, "policy.detach", "policy", before)
		return tx.Audit(ctx, e, map[string]string{"target": t.String(), "policy_id": before}, nil)
	})
}

func findApp(ctx context.Context, st *store.Store, clientID string) (*store.AppRef, error) {
	c, err := st.LookupClient(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return &store.AppRef{ClientID: c.ClientID, Name: c.Name, Type: c.Type, OrgID: c.OrgID, PolicyID: c.PolicyID}, nil
}

// Usage is where a policy is attached. Apps is the first UsageApps of the
// applications using it, by client_id; MoreApps says there are more.
type Usage struct {
	Apps     []store.AppRef     `json:"apps"`
	MoreApps bool               `json:"more_apps,omitempty"`
	Points   []store.Attachment `json:"points"`
	Routes   []store.APIRoute   `json:"routes,omitempty"`
}

// UsageApps bounds the applications Usage lists: a policy may be attached
// to any number of them.
const UsageApps = 200

// Usage lists the applications and points that evaluate policyID.
func (s *Service) Usage(ctx context.Context, policyID string) (Usage, error) {
	return usage(ctx, s.Store, policyID)
}

func usage(ctx context.Context, st *store.Store, policyID string) (Usage, error) {
	apps, info, err := st.PolicyAppPage(ctx, policyID, store.Page{Limit: UsageApps})
	if err != nil {
		return Usage{}, err
	}
	points, err := st.Attachments(ctx, policyID)
	if err != nil {
		return Usage{}, err
	}
	routes, err := st.APIRoutes(ctx, policyID)
	return Usage{Apps: apps, MoreApps: info.Next != "", Points: points, Routes: routes}, err
}

// Holds reports whether policyID is what t evaluates now (for an
// application, its own policy; for a point, the attachment).
func (s *Service) Holds(ctx context.Context, policyID string, t Target) (bool, error) {
	if t.ClientID != "" {
		app, err := findApp(ctx, s.Store, t.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil && app.PolicyID == policyID, err
	}
	id, err := s.Store.AttachedPolicy(ctx, t.Point, t.Plan)
	return err == nil && id == policyID, err
}

// Attachable lists, a page at a time by name, the applications a policy of
// kind k can be attached to, with what each has now; p.Q searches by the
// start of the name.
func (s *Service) Attachable(ctx context.Context, k Kind, p store.Page) ([]store.AppRef, store.PageInfo, error) {
	switch k {
	case KindMachineToMachine:
		return s.Store.AppRefPage(ctx, true, p)
	case KindUserAccess:
		return s.Store.AppRefPage(ctx, false, p)
	}
	return nil, store.PageInfo{}, nil
}

package partners

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"portico/store"
)

// Service performs partner-lifecycle operations with validation and audit.
type Service struct {
	Store *store.Store
	Now   func() time.Time
}

// OrgInput is what a platform admin (or the CLI) gives to create or change an
// organization. Nil fields of an update are left as they are.
type OrgInput struct {
	Slug       *string
	Name       *string
	Domains    *[]string
	PlanSlug   *string // "" clears the plan
	Status     *store.OrgStatus
	ValidFrom  *time.Time // zero clears
	ValidUntil *time.Time // zero clears
	// RequireMFA: everyone enrols a second factor at their first sign-in.
	RequireMFA *bool
	// RequirePasskey: members sign in with a passkey (no TOTP, no
	// password-only).
	RequirePasskey *bool
}

var (
	slugRE   = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)
	domainRE = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// reservedSlugs name pages next to an object's page (/admin/orgs/new),
// so no organization or plan may take them.
var reservedSlugs = map[string]bool{"new": true, "import": true, "export": true}

// slugProblem says what is wrong with a slug, or "".
func slugProblem(slug string) string {
	switch {
	case !slugRE.MatchString(slug):
		return "Use 1–40 lower-case letters, digits and dashes, starting and ending with a letter or digit."
	case reservedSlugs[slug]:
		return `"` + slug + `" is reserved; choose another slug.`
	}
	return ""
}

// apply validates in and copies it onto o, collecting every problem.
func (s *Service) apply(ctx context.Context, o *store.Organization, in OrgInput, errs FieldErrors) {
	if in.Slug != nil {
		o.Slug = strings.TrimSpace(*in.Slug)
		if msg := slugProblem(o.Slug); msg != "" {
			errs["slug"] = msg
		}
	}
	if in.Name != nil {
		o.Name = strings.TrimSpace(*in.Name)
		if o.Name == "" || len(o.Name) > 100 {
			errs["name"] = "Give a name of 1–100 characters."
		}
	}
	if in.Domains != nil {
		o.Domains = nil
		for _, d := range *in.Domains {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "" {
				continue
			}
			if !domainRE.MatchString(d) {
				errs["domains"] = `"` + d + `" is not a domain name like example.com.`
				break
			}
			o.Domains = append(o.Domains, d)
		}
	}
	if in.PlanSlug != nil {
		o.PlanID = ""
		if slug := strings.TrimSpace(*in.PlanSlug); slug != "" {
			p, err := s.Store.PlanBySlug(ctx, slug)
			if err != nil {
				errs["plan"] = `There is no plan "` + slug + `".`
			} else {
				o.PlanID = p.ID
			}
		}
	}
	if in.Status != nil {
		if *in.Status != store.OrgActive && *in.Status != store.OrgSuspended {
			errs["status"] = "Status is active or suspended."
		} else {
			o.Status = *in.Status
		}
	}
	if in.ValidFrom != nil {
		o.ValidFrom = *in.ValidFrom
	}
	if in.ValidUntil != nil {
		o.ValidUntil = *in.ValidUntil
	}
	if in.RequireMFA != nil {
		o.RequireMFA = *in.RequireMFA
	}
	if in.RequirePasskey != nil {
		o.RequirePasskey = *in.RequirePasskey
	}
	if !o.ValidFrom.IsZero() && !o.ValidUntil.IsZero() && !o.ValidUntil.After(o.ValidFrom) {
		errs["valid_until"] = "The partnership must end after it starts."
	}
}

// CreateOrg validates in and creates the organization with its audit event.
func (s *Service) CreateOrg(ctx context.Context, actor store.Actor, in OrgInput) (store.Organization, error) {
	var o store.Organization
	errs := FieldErrors{}
	if in.Slug == nil {
		errs["slug"] = "A slug is required."
	}
	if in.Name == nil {
		errs["name"] = "A name is required."
	}
	s.apply(ctx, &o, in, errs)
	if err := errs.orNil(); err != nil {
		return o, err
	}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateOrganization(ctx, &o); err != nil {
			return conflictToField(err, o)
		}
		return tx.Audit(ctx, actor.Event(o.ID, "org.create", "organization", o.ID), nil, o)
	})
	return o, err
}

// UpdateOrg validates in and changes the organization identified by slug.
func (s *Service) UpdateOrg(ctx context.Context, actor store.Actor, slug string, in OrgInput) (store.Organization, error) {
	cur, err := s.Store.OrganizationBySlug(ctx, slug)
	if err != nil {
		return cur, err
	}
	var after store.Organization
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		var before store.Organization
		var err error
		before, after, err = tx.UpdateOrganization(ctx, cur.ID, func(o *store.Organization) error {
			errs := FieldErrors{}
			s.apply(ctx, o, in, errs)
			return errs.orNil()
		})
		if err != nil {
			return conflictToField(err, after)
		}
		// A change that ends the partnership now (suspension, or a
		// valid_until in the past) kills the organization's refresh tokens
		// with it, so no grant outlives the decision.
		now := s.now()
		if r := after.InactiveReason(now); r != "" && before.InactiveReason(now) == "" {
			if err := tx.RevokeOrgRefreshFamilies(ctx, cur.ID, r, now); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, actor.Event(cur.ID, "org.update", "organization", cur.ID), before, after)
	})
	return after, err
}

// now is the service's clock; a Service built without one uses the store's.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return s.Store.Now()
}

// conflictToField explains a uniqueness conflict in terms of the input.
func conflictToField(err error, o store.Organization) error {
	if !errors.Is(err, store.ErrAlreadyExists) {
		return err
	}
	if errors.Is(err, store.ErrDomainTaken) {
		return FieldErrors{"domains": "One of these domains already belongs to another organization."}
	}
	return FieldErrors{"slug": `The slug "` + o.Slug + `" is taken.`}
}

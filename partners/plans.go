package partners

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"portico/store"
)

// PlanInput is what a platform admin (or the CLI) gives to create or change a
// plan. Nil fields of an update are left as they are; Features replaces the
// whole list.
type PlanInput struct {
	Slug     *string
	Name     *string
	Features *[]FeatureInput
}

// FeatureInput is one feature as typed into a form or given on the command
// line: scopes and app types as lists, the cap as a number (0 = no cap).
type FeatureInput struct {
	Name     string
	Scopes   []string
	AppTypes []string
	MaxApps  int
}

// scopeRE accepts OAuth scope tokens as APIs usually spell them
// (payments:read, orders.write, api/admin); RFC 6749 allows more, but a
// narrow alphabet keeps scopes readable in claims and policies.
var scopeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:._/-]{0,99}$`)

// applyPlan validates in and copies it onto p, collecting every problem.
// Feature errors are keyed features[i].field so a form can show them beside
// the right row.
func applyPlan(p *store.Plan, in PlanInput, errs FieldErrors) {
	if in.Slug != nil {
		p.Slug = strings.TrimSpace(*in.Slug)
		if msg := slugProblem(p.Slug); msg != "" {
			errs["slug"] = msg
		}
	}
	if in.Name != nil {
		p.Name = strings.TrimSpace(*in.Name)
		if p.Name == "" || len(p.Name) > 100 {
			errs["name"] = "Give a name of 1–100 characters."
		}
	}
	if in.Features == nil {
		return
	}
	p.Features = nil
	seen := map[string]bool{}
	for i, f := range *in.Features {
		key := func(field string) string { return fmt.Sprintf("features[%d].%s", i, field) }
		name := strings.TrimSpace(f.Name)
		switch {
		case name == "" || len(name) > 60:
			errs[key("name")] = "Give the feature a name of 1–60 characters."
		case seen[name]:
			errs[key("name")] = `Another feature is already called "` + name + `".`
		}
		seen[name] = true
		feat := store.Feature{Name: name, MaxApps: f.MaxApps}
		for _, sc := range f.Scopes {
			if sc = strings.TrimSpace(sc); sc == "" {
				continue
			}
			if !scopeRE.MatchString(sc) {
				errs[key("scopes")] = `"` + sc + `" is not a scope: use letters, digits and : . _ / -`
				break
			}
			feat.Scopes = append(feat.Scopes, sc)
		}
		for _, t := range f.AppTypes {
			if t = strings.ToLower(strings.TrimSpace(t)); t == "" {
				continue
			}
			if !store.ClientType(t).Valid() {
				errs[key("app_types")] = `"` + t + `" is not an app type: web, spa, native or service.`
				break
			}
			feat.AppTypes = append(feat.AppTypes, t)
		}
		slices.Sort(feat.Scopes)
		feat.Scopes = slices.Compact(feat.Scopes)
		slices.Sort(feat.AppTypes)
		feat.AppTypes = slices.Compact(feat.AppTypes)
		if f.MaxApps < 0 || f.MaxApps > 10000 {
			errs[key("max_apps")] = "The cap is a number from 0 (no cap) to 10000."
		}
		p.Features = append(p.Features, feat)
	}
}

// CreatePlan validates in and creates the plan with its audit event.
func (s *Service) CreatePlan(ctx context.Context, actor store.Actor, in PlanInput) (store.Plan, error) {
	var p store.Plan
	errs := FieldErrors{}
	if in.Slug == nil {
		errs["slug"] = "A slug is required."
	}
	if in.Name == nil {
		errs["name"] = "A name is required."
	}
	applyPlan(&p, in, errs)
	if err := errs.orNil(); err != nil {
		return p, err
	}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePlan(ctx, &p); err != nil {
			return planConflict(err, p)
		}
		return tx.Audit(ctx, actor.Event("", "plan.create", "plan", p.ID), nil, p)
	})
	return p, err
}

// UpdatePlan validates in and changes the plan identified by slug. Tokens
// pick the change up when they are next issued.
func (s *Service) UpdatePlan(ctx context.Context, actor store.Actor, slug string, in PlanInput) (store.Plan, error) {
	cur, err := s.Store.PlanBySlug(ctx, slug)
	if err != nil {
		return cur, err
	}
	var after store.Plan
	err = s.Store.InTx(ctx, func(tx *store.Store) error {
		var before store.Plan
		var err error
		before, after, err = tx.UpdatePlan(ctx, cur.ID, func(p *store.Plan) error {
			errs := FieldErrors{}
			applyPlan(p, in, errs)
			return errs.orNil()
		})
		if err != nil {
			return planConflict(err, after)
		}
		return tx.Audit(ctx, actor.Event("", "plan.update", "plan", cur.ID), before, after)
	})
	return after, err
}

func planConflict(err error, p store.Plan) error {
	if errors.Is(err, store.ErrAlreadyExists) {
		return FieldErrors{"slug": `The slug "` + p.Slug + `" is taken.`}
	}
	return err
}

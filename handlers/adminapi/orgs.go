package adminapi

import (
	"errors"
	"net/http"
	"time"

	"portico/partners"
	"portico/store"
)

// Org is an organization as the API shows it (the CLI's org --json).
type Org struct {
	ID             string     `json:"id"`
	Slug           string     `json:"slug"`
	Name           string     `json:"name"`
	Domains        []string   `json:"domains"`
	Status         string     `json:"status"`
	Plan           string     `json:"plan,omitempty"`
	ValidFrom      *time.Time `json:"valid_from,omitempty"`
	ValidUntil     *time.Time `json:"valid_until,omitempty"`
	RequireMFA     bool       `json:"require_mfa"`
	RequirePasskey bool       `json:"require_passkey"`
	CreatedAt      time.Time  `json:"created_at"`
	// Access says whether the organization's people and apps may sign in
	// and get tokens now (status and partnership window together);
	// InactiveReason says why not.
	Access         bool   `json:"access"`
	InactiveReason string `json:"inactive_reason,omitempty"`
	// Attributes are the organization's facts that policies read.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// OrgBody creates an organization or changes one: absent fields are left
// as they are. valid_from and valid_until are RFC 3339 times or dates; ""
// clears the bound. plan is a plan's slug; "" clears it.
type OrgBody struct {
	Slug           *string   `json:"slug,omitempty"`
	Name           *string   `json:"name,omitempty"`
	Domains        *[]string `json:"domains,omitempty"`
	Plan           *string   `json:"plan,omitempty"`
	Status         *string   `json:"status,omitempty"`
	ValidFrom      *string   `json:"valid_from,omitempty"`
	ValidUntil     *string   `json:"valid_until,omitempty"`
	RequireMFA     *bool     `json:"require_mfa,omitempty"`
	RequirePasskey *bool     `json:"require_passkey,omitempty"`
}

// ClientMetadataBody says whether an organization's people may sign in to
// clients identified by a Client ID Metadata Document.
type ClientMetadataBody struct {
	Allow bool `json:"allow"`
}

// ClientMetadataOut is the setting after the change.
type ClientMetadataOut struct {
	Org                 string `json:"org"`
	AllowClientMetadata bool   `json:"allow_client_metadata"`
}

func (a *API) orgOut(c *call, o store.Organization) (Org, error) {
	j := Org{ID: o.ID, Slug: o.Slug, Name: o.Name, Domains: o.Domains, Status: string(o.Status), CreatedAt: o.CreatedAt,
		RequireMFA: o.RequireMFA, RequirePasskey: o.RequirePasskey}
	if j.Domains == nil {
		j.Domains = []string{}
	}
	j.InactiveReason = o.InactiveReason(a.cfg.Now())
	if len(o.Attributes) > 0 {
		j.Attributes = o.Attributes
	}
	j.Access = j.InactiveReason == ""
	if o.PlanID != "" {
		p, err := a.cfg.Store.Plan(c.ctx(), o.PlanID)
		if err != nil {
			return j, err
		}
		j.Plan = p.Slug
	}
	if !o.ValidFrom.IsZero() {
		j.ValidFrom = &o.ValidFrom
	}
	if !o.ValidUntil.IsZero() {
		j.ValidUntil = &o.ValidUntil
	}
	return j, nil
}

// parseWhen reads a partnership bound: RFC 3339, or a date (midnight UTC);
// "" clears it.
func parseWhen(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func (b OrgBody) input() (partners.OrgInput, error) {
	in := partners.OrgInput{Slug: b.Slug, Name: b.Name, Domains: b.Domains, PlanSlug: b.Plan,
		RequireMFA: b.RequireMFA, RequirePasskey: b.RequirePasskey}
	if b.Status != nil {
		st := store.OrgStatus(*b.Status)
		in.Status = &st
	}
	errs := partners.FieldErrors{}
	if b.ValidFrom != nil {
		t, ok := parseWhen(*b.ValidFrom)
		if !ok {
			errs["valid_from"] = "Use an RFC 3339 time (2026-12-31T23:59:59Z) or a date (2026-12-31)."
		}
		in.ValidFrom = &t
	}
	if b.ValidUntil != nil {
		t, ok := parseWhen(*b.ValidUntil)
		if !ok {
			errs["valid_until"] = "Use an RFC 3339 time (2026-12-31T23:59:59Z) or a date (2026-12-31)."
		}
		in.ValidUntil = &t
	}
	if len(errs) > 0 {
		return in, errs
	}
	return in, nil
}

func (a *API) listOrgs(c *call) error {
	if c.p.Token.OrgID != "" {
		// A scoped credential sees its own organization and nothing else.
		o, err := a.cfg.Store.Organization(c.ctx(), c.p.Token.OrgID)
		if err != nil {
			return err
		}
		j, err := a.orgOut(c, o)
		if err != nil {
			return err
		}
		return list(c, []Org{j}, store.PageInfo{})
	}
	page, err := c.page()
	if err != nil {
		return err
	}
	orgs, info, err := a.cfg.Store.OrganizationPage(c.ctx(), page)
	if err != nil {
		return err
	}
	out := make([]Org, 0, len(orgs))
	for _, o := range orgs {
		j, err := a.orgOut(c, o)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	return list(c, out, info)
}

func (a *API) getOrg(c *call) error {
	j, err := a.orgOut(c, c.org)
	if err != nil {
		return err
	}
	return c.withETag(j)
}

func (a *API) createOrg(c *call) error {
	var b OrgBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Slug == nil {
		return partners.FieldErrors{"slug": "Give the organization a slug."}
	}
	in, err := b.input()
	if err != nil {
		return err
	}
	o, err := a.partners.CreateOrg(c.ctx(), c.actor(), in)
	if err != nil {
		return err
	}
	// Read back as stored (times at the store's precision), so the ETag
	// here is the one a GET gives.
	if o, err = a.cfg.Store.Organization(c.ctx(), o.ID); err != nil {
		return err
	}
	j, err := a.orgOut(c, o)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etagOf(j))
	return c.created("/orgs/"+o.Slug, j)
}

func (a *API) updateOrg(c *call) error {
	var b OrgBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Slug != nil && *b.Slug != c.org.Slug {
		return partners.FieldErrors{"slug": "An organization's slug does not change."}
	}
	in, err := b.input()
	if err != nil {
		return err
	}
	in.Slug = nil
	var j Org
	err = a.exclusive(c, func(tx *API) error {
		cur, err := tx.cfg.Store.Organization(c.ctx(), c.org.ID)
		if err != nil {
			return err
		}
		curJ, err := tx.orgOut(c, cur)
		if err != nil {
			return err
		}
		if err := c.ifMatch(curJ); err != nil {
			return err
		}
		o, err := tx.partners.UpdateOrg(c.ctx(), c.actor(), cur.Slug, in)
		if err != nil {
			return err
		}
		j, err = tx.orgOut(c, o)
		return err
	})
	if err != nil {
		return err
	}
	return c.withETag(j)
}

// setOrgStatus suspends or reactivates, the billing system's two verbs.
func (a *API) setOrgStatus(suspend bool) func(c *call) error {
	return func(c *call) error {
		var o store.Organization
		var err error
		if suspend {
			o, err = a.partners.Suspend(c.ctx(), c.actor(), c.org.Slug)
		} else {
			o, err = a.partners.Reactivate(c.ctx(), c.actor(), c.org.Slug)
		}
		if err != nil {
			return err
		}
		j, err := a.orgOut(c, o)
		if err != nil {
			return err
		}
		return c.withETag(j)
	}
}

func (a *API) setClientMetadata(c *call) error {
	if a.cfg.Registrar == nil {
		return errNoRegistrar
	}
	var b ClientMetadataBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if err := a.cfg.Registrar.SetOrgClientMetadata(c.ctx(), c.org.ID, c.actor(), b.Allow); err != nil {
		return err
	}
	return c.json(http.StatusOK, ClientMetadataOut{Org: c.org.Slug, AllowClientMetadata: b.Allow})
}

var errNoRegistrar = problem{Status: http.StatusServiceUnavailable, Detail: "The authorization server is not running in this portal."}

// Plan is a plan as the API shows it.
type Plan struct {
	ID        string          `json:"id"`
	Slug      string          `json:"slug"`
	Name      string          `json:"name"`
	Features  []store.Feature `json:"features"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// PlanBody creates or changes a plan; features replaces the whole list.
type PlanBody struct {
	Slug     *string        `json:"slug,omitempty"`
	Name     *string        `json:"name,omitempty"`
	Features *[]FeatureBody `json:"features,omitempty"`
}

// FeatureBody is one feature of a plan: max_apps 0 is no cap.
type FeatureBody struct {
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes,omitempty"`
	AppTypes []string `json:"app_types,omitempty"`
	MaxApps  int      `json:"max_apps,omitempty"`
}

func planOut(p store.Plan) Plan {
	f := p.Features
	if f == nil {
		f = []store.Feature{}
	}
	return Plan{ID: p.ID, Slug: p.Slug, Name: p.Name, Features: f, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (b PlanBody) input() partners.PlanInput {
	in := partners.PlanInput{Slug: b.Slug, Name: b.Name}
	if b.Features != nil {
		fs := make([]partners.FeatureInput, 0, len(*b.Features))
		for _, f := range *b.Features {
			fs = append(fs, partners.FeatureInput{Name: f.Name, Scopes: f.Scopes, AppTypes: f.AppTypes, MaxApps: f.MaxApps})
		}
		in.Features = &fs
	}
	return in
}

func (a *API) listPlans(c *call) error {
	plans, err := a.cfg.Store.Plans(c.ctx())
	if err != nil {
		return err
	}
	out := make([]Plan, 0, len(plans))
	for _, p := range plans {
		out = append(out, planOut(p))
	}
	return list(c, out, store.PageInfo{})
}

func (a *API) plan(c *call) (store.Plan, error) {
	p, err := a.cfg.Store.PlanBySlug(c.ctx(), c.Param("plan"))
	if errors.Is(err, store.ErrNotFound) {
		return p, problem{Status: http.StatusNotFound, Detail: "No such plan."}
	}
	return p, err
}

func (a *API) getPlan(c *call) error {
	p, err := a.plan(c)
	if err != nil {
		return err
	}
	return c.withETag(planOut(p))
}

func (a *API) createPlan(c *call) error {
	var b PlanBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Slug == nil {
		return partners.FieldErrors{"slug": "Give the plan a slug."}
	}
	p, err := a.partners.CreatePlan(c.ctx(), c.actor(), b.input())
	if err != nil {
		return err
	}
	return c.created("/plans/"+p.Slug, planOut(p))
}

func (a *API) updatePlan(c *call) error {
	var b PlanBody
	if err := c.bind(&b); err != nil {
		return err
	}
	var out Plan
	err := a.exclusive(c, func(tx *API) error {
		cur, err := tx.plan(c)
		if err != nil {
			return err
		}
		if err := c.ifMatch(planOut(cur)); err != nil {
			return err
		}
		p, err := tx.partners.UpdatePlan(c.ctx(), c.actor(), cur.Slug, b.input())
		out = planOut(p)
		return err
	})
	if err != nil {
		return err
	}
	return c.withETag(out)
}

func (a *API) setOrgAttribute(c *call) error {
	var b AttributeBody
	if err := c.bind(&b); err != nil {
		return err
	}
	return a.orgAttribute(c, b.Value)
}

// removeOrgAttribute is setOrgAttribute with an empty value, as the CLI's
// `org set-attribute --value ""`.
func (a *API) removeOrgAttribute(c *call) error { return a.orgAttribute(c, "") }

func (a *API) orgAttribute(c *call, value string) error {
	o, err := a.partners.SetOrgAttribute(c.ctx(), c.actor(), c.org.ID, c.Param("name"), value)
	if err != nil {
		return err
	}
	j, err := a.orgOut(c, o)
	if err != nil {
		return err
	}
	return c.withETag(j)
}

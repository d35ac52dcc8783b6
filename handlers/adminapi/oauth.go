package adminapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

// IssuerRegistry manages trusted token issuers (authserver.Issuers).
type IssuerRegistry interface {
	Create(ctx context.Context, orgID string, actor authserver.Actor, in authserver.IssuerInput) (store.TrustedIssuer, error)
	List(ctx context.Context, orgID string) ([]store.TrustedIssuer, error)
	Get(ctx context.Context, orgID, id string) (store.TrustedIssuer, error)
	Delete(ctx context.Context, orgID, id string, actor authserver.Actor) error
	Test(ctx context.Context, orgID, token string) (authserver.Preview, error)
}

var _ IssuerRegistry = (*authserver.Issuers)(nil)

// IssuerBody registers a partner's token issuer (token exchange and JWT
// bearer grants).
type IssuerBody struct {
	Issuer          string            `json:"issuer"`
	JWKSURI         string            `json:"jwks_uri,omitempty"`
	Audiences       []string          `json:"audiences,omitempty"`
	SubjectClaim    string            `json:"subject_claim,omitempty"`
	GroupsClaim     string            `json:"groups_claim,omitempty"`
	AttributeClaims map[string]string `json:"attribute_claims,omitempty"`
	MaxAgeSeconds   int               `json:"max_age_seconds,omitempty"`
	Algorithms      []string          `json:"algorithms,omitempty"`
}

// IssuerTestBody is a token to try against the organization's issuers.
type IssuerTestBody struct {
	Token string `json:"token"`
}

var errNoIssuers = problem{Status: http.StatusServiceUnavailable, Detail: "Trusted issuers are not configured in this portal."}

func (a *API) listIssuers(c *call) error {
	if a.cfg.Issuers == nil {
		return errNoIssuers
	}
	l, err := a.cfg.Issuers.List(c.ctx(), c.org.ID)
	if err != nil {
		return err
	}
	return list(c, l, store.PageInfo{})
}

func (a *API) getIssuer(c *call) error {
	if a.cfg.Issuers == nil {
		return errNoIssuers
	}
	ti, err := a.cfg.Issuers.Get(c.ctx(), c.org.ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.withETag(ti)
}

func (a *API) createIssuer(c *call) error {
	if a.cfg.Issuers == nil {
		return errNoIssuers
	}
	var b IssuerBody
	if err := c.bind(&b); err != nil {
		return err
	}
	subject := b.SubjectClaim
	if subject == "" {
		subject = "sub"
	}
	ti, err := a.cfg.Issuers.Create(c.ctx(), c.org.ID, c.actor(), authserver.IssuerInput{Issuer: b.Issuer, JWKSURI: b.JWKSURI,
		Audiences: b.Audiences, SubjectClaim: subject, GroupsClaim: b.GroupsClaim, AttributeClaims: b.AttributeClaims,
		MaxAge: time.Duration(b.MaxAgeSeconds) * time.Second, Algorithms: b.Algorithms})
	if err != nil {
		return err
	}
	return c.created("/orgs/"+c.org.Slug+"/issuers/"+ti.ID, ti)
}

func (a *API) deleteIssuer(c *call) error {
	if a.cfg.Issuers == nil {
		return errNoIssuers
	}
	if err := a.cfg.Issuers.Delete(c.ctx(), c.org.ID, c.Param("id"), c.actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// testIssuer checks a token against the organization's trusted issuers
// and shows what Portico would make of it. :id names the issuer the
// caller expects; a token another issuer vouches for is refused.
func (a *API) testIssuer(c *call) error {
	if a.cfg.Issuers == nil {
		return errNoIssuers
	}
	if _, err := a.cfg.Issuers.Get(c.ctx(), c.org.ID, c.Param("id")); err != nil {
		return err
	}
	var b IssuerTestBody
	if err := c.bind(&b); err != nil {
		return err
	}
	p, err := a.cfg.Issuers.Test(c.ctx(), c.org.ID, b.Token)
	if err != nil {
		return err
	}
	if p.Refused == "" && p.IssuerID != c.Param("id") {
		p = authserver.Preview{Refused: "The token was issued by another of the organization's trusted issuers."}
	}
	return c.json(http.StatusOK, p)
}

// APIBody registers or changes an API (a resource server). On create, org
// (slug or ID) makes it an organization's; a scoped credential always
// makes its own organization's. allowed_plans and allowed_orgs take slugs
// or IDs. On an update absent fields keep their value.
type APIBody struct {
	Org                      string            `json:"org,omitempty"`
	Identifier               *string           `json:"identifier,omitempty"`
	Name                     *string           `json:"name,omitempty"`
	Description              *string           `json:"description,omitempty"`
	Scopes                   *[]store.APIScope `json:"scopes,omitempty"`
	TokenLifetimeSeconds     *int              `json:"token_lifetime_seconds,omitempty"`
	RequireSenderConstrained *bool             `json:"require_sender_constrained,omitempty"`
	PublishMetadata          *bool             `json:"publish_metadata,omitempty"`
	AllowedPlans             *[]string         `json:"allowed_plans,omitempty"`
	AllowedOrgs              *[]string         `json:"allowed_orgs,omitempty"`
}

func (a *API) apiInput(c *call, b APIBody, in *authserver.APIInput) error {
	set(&in.Identifier, b.Identifier)
	set(&in.Name, b.Name)
	set(&in.Description, b.Description)
	set(&in.Scopes, b.Scopes)
	set(&in.RequireSenderConstrained, b.RequireSenderConstrained)
	set(&in.PublishMetadata, b.PublishMetadata)
	if b.TokenLifetimeSeconds != nil {
		in.TokenLifetime = time.Duration(*b.TokenLifetimeSeconds) * time.Second
	}
	errs := partners.FieldErrors{}
	if b.AllowedPlans != nil {
		in.AllowedPlans = []string{}
		for _, v := range *b.AllowedPlans {
			p, err := a.cfg.Store.PlanBySlug(c.ctx(), v)
			if errors.Is(err, store.ErrNotFound) {
				p, err = a.cfg.Store.Plan(c.ctx(), v)
			}
			if errors.Is(err, store.ErrNotFound) {
				errs["allowed_plans"] = "No plan " + v + "."
				continue
			}
			if err != nil {
				return err
			}
			in.AllowedPlans = append(in.AllowedPlans, p.ID)
		}
	}
	if b.AllowedOrgs != nil {
		in.AllowedOrgs = []string{}
		for _, v := range *b.AllowedOrgs {
			o, err := a.orgParam(c.ctx(), v)
			var p problem
			if errors.As(err, &p) {
				errs["allowed_orgs"] = "No organization " + v + "."
				continue
			}
			if err != nil {
				return err
			}
			in.AllowedOrgs = append(in.AllowedOrgs, o.ID)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (a *API) listAPIs(c *call) error {
	var l []store.API
	var err error
	if c.p.Token.OrgID != "" {
		l, err = a.cfg.Store.OrgAPIs(c.ctx(), c.p.Token.OrgID)
	} else {
		l, err = a.cfg.Store.APIs(c.ctx())
	}
	if err != nil {
		return err
	}
	return list(c, l, store.PageInfo{})
}

// api loads :id as the caller may see it: a scoped credential its own
// organization's APIs only.
func (a *API) api(c *call) (store.API, error) {
	return a.cfg.Store.API(c.ctx(), c.p.Token.OrgID, c.Param("id"))
}

func (a *API) getAPI(c *call) error {
	x, err := a.api(c)
	if err != nil {
		return err
	}
	return c.withETag(x)
}

func (a *API) createAPI(c *call) error {
	if a.cfg.Registrar == nil {
		return errNoRegistrar
	}
	var b APIBody
	if err := c.bind(&b); err != nil {
		return err
	}
	orgID := c.p.Token.OrgID
	if b.Org != "" {
		o, err := a.orgParam(c.ctx(), b.Org)
		if err != nil || (orgID != "" && o.ID != orgID) {
			return partners.FieldErrors{"org": "No such organization."}
		}
		orgID = o.ID
	}
	var in authserver.APIInput
	if err := a.apiInput(c, b, &in); err != nil {
		return err
	}
	x, err := a.cfg.Registrar.CreateAPI(c.ctx(), orgID, c.actor(), in)
	if err != nil {
		return err
	}
	return c.created("/apis/"+x.ID, x)
}

func (a *API) updateAPI(c *call) error {
	if a.cfg.Registrar == nil {
		return errNoRegistrar
	}
	cur, err := a.api(c)
	if err != nil {
		return err
	}
	var b APIBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Org != "" {
		return partners.FieldErrors{"org": "An API's owner does not change."}
	}
	if err := c.ifMatch(cur); err != nil {
		return err
	}
	in := authserver.APIInput{Identifier: cur.Identifier, Name: cur.Name, Description: cur.Description, Scopes: cur.Scopes,
		TokenLifetime: cur.TokenTTL, RequireSenderConstrained: cur.RequireSenderConstrained, PublishMetadata: cur.PublishMetadata,
		AllowedPlans: cur.AllowedPlans, AllowedOrgs: cur.AllowedOrgs}
	if err := a.apiInput(c, b, &in); err != nil {
		return err
	}
	x, err := a.cfg.Registrar.UpdateAPI(c.ctx(), c.p.Token.OrgID, cur.ID, c.actor(), in)
	if err != nil {
		return err
	}
	return c.withETag(x)
}

func (a *API) deleteAPI(c *call) error {
	if a.cfg.Registrar == nil {
		return errNoRegistrar
	}
	cur, err := a.api(c)
	if err != nil {
		return err
	}
	if err := a.cfg.Registrar.DeleteAPI(c.ctx(), c.p.Token.OrgID, cur.ID, c.actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

package adminapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

// App is an OAuth client; client_secret appears only in the answer that
// generated it.
type App struct {
	store.Client
	ClientSecret string `json:"client_secret,omitempty"`
}

// AppBody registers an app (the portal's and the CLI's fields). On an
// update absent fields keep their value; type never changes.
type AppBody struct {
	Name                    *string   `json:"name,omitempty"`
	Type                    *string   `json:"type,omitempty"`
	RedirectURIs            *[]string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs  *[]string `json:"post_logout_redirect_uris,omitempty"`
	Scopes                  *[]string `json:"scopes,omitempty"`
	GrantTypes              *[]string `json:"grant_types,omitempty"`
	LaunchURL               *string   `json:"launch_url,omitempty"`
	LogoURL                 *string   `json:"logo_url,omitempty"`
	TokenEndpointAuthMethod *string   `json:"token_endpoint_auth_method,omitempty"`
	JWKS                    *string   `json:"jwks,omitempty"`
	JWKSURI                 *string   `json:"jwks_uri,omitempty"`
	IDTokenSignedAlg        *string   `json:"id_token_signed_response_alg,omitempty"`
	TrustedIssuerID         *string   `json:"trusted_issuer_id,omitempty"`
}

// AppPlatformBody is what only a platform admin changes on an app (the
// CLI's client update).
type AppPlatformBody struct {
	FirstParty         *bool `json:"first_party,omitempty"`
	ExchangeAnySubject *bool `json:"exchange_any_subject,omitempty"`
	RequirePAR         *bool `json:"require_par,omitempty"`
	RequireDPoP        *bool `json:"require_dpop,omitempty"`
	FAPI2              *bool `json:"fapi2,omitempty"`
}

// RotateBody rotates an app's secret; the previous one stays valid for
// grace_seconds (0: it stops at once).
type RotateBody struct {
	GraceSeconds int `json:"grace_seconds,omitempty"`
}

// Shares lists who an app is shared with: "all", or "plan:<slug>".
type Shares struct {
	ClientID   string   `json:"client_id"`
	SharedWith []string `json:"shared_with"`
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (b AppBody) apply(in *authserver.RegisterInput) {
	set(&in.Name, b.Name)
	if b.Type != nil {
		in.Type = store.ClientType(*b.Type)
	}
	set(&in.RedirectURIs, b.RedirectURIs)
	set(&in.PostLogoutRedirectURIs, b.PostLogoutRedirectURIs)
	set(&in.Scopes, b.Scopes)
	set(&in.GrantTypes, b.GrantTypes)
	set(&in.LaunchURL, b.LaunchURL)
	set(&in.LogoURL, b.LogoURL)
	set(&in.TokenEndpointAuthMethod, b.TokenEndpointAuthMethod)
	set(&in.JWKS, b.JWKS)
	set(&in.JWKSURI, b.JWKSURI)
	set(&in.IDTokenSignedAlg, b.IDTokenSignedAlg)
	set(&in.TrustedIssuerID, b.TrustedIssuerID)
}

func (a *API) listApps(c *call) error {
	page, err := c.page()
	if err != nil {
		return err
	}
	cls, info, err := a.cfg.Store.ClientPage(c.ctx(), c.org.ID, page, true)
	if err != nil {
		return err
	}
	out := make([]App, 0, len(cls))
	for _, cl := range cls {
		out = append(out, App{Client: cl})
	}
	return list(c, out, info)
}

// app loads :client_id through the organization: another organization's
// client is not found.
func (a *API) app(c *call) (store.Client, error) {
	cl, err := a.cfg.Store.ClientByClientID(c.ctx(), c.org.ID, c.Param("client_id"))
	if errors.Is(err, store.ErrNotFound) {
		return cl, problem{Status: http.StatusNotFound, Detail: "No such app in this organization."}
	}
	return cl, err
}

// appToChange is app for the routes that change one: they need the
// registrar, which a portal without an authorization server lacks.
func (a *API) appToChange(c *call) (store.Client, error) {
	if a.cfg.Registrar == nil {
		return store.Client{}, errNoRegistrar
	}
	return a.app(c)
}

// createdApp answers a registration or rotation: the app with the secret,
// which this answer alone carries.
func createdApp(c *call, cl store.Client, secret string) error {
	return c.created("/orgs/"+c.org.Slug+"/apps/"+cl.ClientID, App{Client: cl, ClientSecret: secret})
}

func (a *API) getApp(c *call) error {
	cl, err := a.app(c)
	if err != nil {
		return err
	}
	return c.withETag(App{Client: cl})
}

func (a *API) createApp(c *call) error {
	if a.cfg.Registrar == nil {
		return errNoRegistrar
	}
	var b AppBody
	if err := c.bind(&b); err != nil {
		return err
	}
	var in authserver.RegisterInput
	b.apply(&in)
	cl, secret, err := a.cfg.Registrar.Register(c.ctx(), c.org.ID, c.actor(), in)
	if err != nil {
		return err
	}
	return createdApp(c, cl, secret)
}

func (a *API) updateApp(c *call) error {
	cur, err := a.appToChange(c)
	if err != nil {
		return err
	}
	var b AppBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.Type != nil && store.ClientType(*b.Type) != cur.Type {
		return partners.FieldErrors{"type": "An app's type does not change; register a new app."}
	}
	if err := c.ifMatch(App{Client: cur}); err != nil {
		return err
	}
	in := authserver.RegisterInput{Name: cur.Name, Type: cur.Type, RedirectURIs: cur.RedirectURIs,
		PostLogoutRedirectURIs: cur.PostLogoutRedirectURIs, Scopes: cur.Scopes, GrantTypes: cur.GrantTypes,
		LaunchURL: cur.LaunchURL, LogoURL: cur.LogoURL, TokenEndpointAuthMethod: cur.TokenEndpointAuthMethod,
		JWKS: cur.JWKS, JWKSURI: cur.JWKSURI, IDTokenSignedAlg: cur.IDTokenSignedAlg}
	if id, err := a.cfg.Store.ClientIssuerBinding(c.ctx(), cur.ClientID); err == nil {
		in.TrustedIssuerID = id
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	b.apply(&in)
	cl, err := a.cfg.Registrar.Update(c.ctx(), c.org.ID, cur.ClientID, c.actor(), in)
	if err != nil {
		return err
	}
	return c.withETag(App{Client: cl})
}

func (a *API) updateAppPlatform(c *call) error {
	cl, err := a.appToChange(c)
	if err != nil {
		return err
	}
	var b AppPlatformBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if err := c.ifMatch(App{Client: cl}); err != nil {
		return err
	}
	ctx, reg, actor := c.ctx(), a.cfg.Registrar, c.actor()
	if b.FirstParty != nil {
		if cl, err = reg.SetFirstParty(ctx, c.org.ID, cl.ClientID, actor, *b.FirstParty); err != nil {
			return err
		}
	}
	if b.ExchangeAnySubject != nil {
		if cl, err = reg.SetExchangeAnySubject(ctx, c.org.ID, cl.ClientID, actor, *b.ExchangeAnySubject); err != nil {
			return err
		}
	}
	if b.RequirePAR != nil || b.RequireDPoP != nil || b.FAPI2 != nil {
		sec := authserver.ClientSecurity{RequirePAR: b.RequirePAR, RequireDPoP: b.RequireDPoP, FAPI2: b.FAPI2}
		if cl, err = reg.SetSecurity(ctx, c.org.ID, cl.ClientID, actor, sec); err != nil {
			return err
		}
	}
	return c.withETag(App{Client: cl})
}

func (a *API) setAppEnabled(enabled bool) func(c *call) error {
	return func(c *call) error {
		cl, err := a.appToChange(c)
		if err != nil {
			return err
		}
		cl, err = a.cfg.Registrar.SetEnabled(c.ctx(), c.org.ID, cl.ClientID, c.actor(), enabled)
		if err != nil {
			return err
		}
		return c.withETag(App{Client: cl})
	}
}

func (a *API) deleteApp(c *call) error {
	cl, err := a.appToChange(c)
	if err != nil {
		return err
	}
	if err := a.cfg.Registrar.Delete(c.ctx(), c.org.ID, cl.ClientID, c.actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) rotateSecret(c *call) error {
	cl, err := a.appToChange(c)
	if err != nil {
		return err
	}
	var b RotateBody
	if err := c.bind(&b); err != nil {
		return err
	}
	if b.GraceSeconds < 0 || b.GraceSeconds > 30*24*3600 {
		return partners.FieldErrors{"grace_seconds": "Choose from 0 to 2592000 seconds (30 days)."}
	}
	cl, secret, err := a.cfg.Registrar.RotateSecret(c.ctx(), c.org.ID, cl.ClientID, c.actor(), time.Duration(b.GraceSeconds)*time.Second)
	if err != nil {
		return err
	}
	return createdApp(c, cl, secret)
}

func (a *API) revokeSecret(c *call) error {
	cl, err := a.appToChange(c)
	if err != nil {
		return err
	}
	cl, err = a.cfg.Registrar.RevokeSecret(c.ctx(), c.org.ID, cl.ClientID, c.Param("secret_id"), c.actor())
	if err != nil {
		return err
	}
	return c.withETag(App{Client: cl})
}

// shareTarget reads :target: "all", or "plan:<slug>" (returned as the
// plan's ID).
func (a *API) shareTarget(c *call) (string, error) {
	t := c.Param("target")
	if t == "all" {
		return "", nil
	}
	slug, ok := strings.CutPrefix(t, "plan:")
	if !ok {
		return "", problem{Status: http.StatusNotFound, Detail: `A share target is "all" or "plan:<slug>".`}
	}
	p, err := a.cfg.Store.PlanBySlug(c.ctx(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return "", problem{Status: http.StatusNotFound, Detail: "No such plan."}
	}
	return p.ID, err
}

func (a *API) share(add bool) func(c *call) error {
	return func(c *call) error {
		cl, err := a.appToChange(c)
		if err != nil {
			return err
		}
		planID, err := a.shareTarget(c)
		if err != nil {
			return err
		}
		if add {
			err = a.cfg.Registrar.Share(c.ctx(), c.org.ID, cl.ClientID, planID, c.actor())
		} else {
			err = a.cfg.Registrar.Unshare(c.ctx(), c.org.ID, cl.ClientID, planID, c.actor())
		}
		if err != nil {
			return err
		}
		return a.shares(c, cl)
	}
}

func (a *API) listShares(c *call) error {
	cl, err := a.app(c)
	if err != nil {
		return err
	}
	return a.shares(c, cl)
}

func (a *API) shares(c *call, cl store.Client) error {
	ids, err := a.cfg.Store.ClientShares(c.ctx(), c.org.ID, cl.ClientID)
	if err != nil {
		return err
	}
	out := Shares{ClientID: cl.ClientID, SharedWith: []string{}}
	for _, id := range ids {
		if id == "" {
			out.SharedWith = append(out.SharedWith, "all")
		} else if p, err := a.cfg.Store.Plan(c.ctx(), id); err == nil {
			out.SharedWith = append(out.SharedWith, "plan:"+p.Slug)
		}
	}
	return c.json(http.StatusOK, out)
}

package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/store"
	"portico/views"
)

// IssuerRegistry is the trusted-issuer operations the page needs;
// *authserver.Issuers satisfies it. Every method is scoped to orgID.
type IssuerRegistry interface {
	Create(ctx context.Context, orgID string, actor authserver.Actor, in authserver.IssuerInput) (store.TrustedIssuer, error)
	List(ctx context.Context, orgID string) ([]store.TrustedIssuer, error)
	Delete(ctx context.Context, orgID, id string, actor authserver.Actor) error
	Test(ctx context.Context, orgID, token string) (authserver.Preview, error)
}

var _ IssuerRegistry = (*authserver.Issuers)(nil)

// Issuers is the trusted-issuers page: org admins manage their own
// organization's, platform admins any organization's (?org=SLUG). Another
// organization's issuer, or another organization named by someone who is
// not a platform admin, is 404.
type Issuers struct {
	Store    *store.Store
	Pages    *Pages
	Registry IssuerRegistry
}

func issuerAdmins(v *Viewer) bool { return v.IsOrgAdmin() || v.User.PlatformAdmin }

// Mount registers the routes.
func (h *Issuers) Mount(g *echo.Group) {
	h.Pages.AddNav("Trusted issuers", "/issuers", issuerAdmins)
	a := g.Group("/issuers", requireUser, requireRole(issuerAdmins))
	a.GET("", h.list)
	a.POST("", h.create)
	a.POST("/test", h.test)
	a.POST("/:id/delete", h.delete)
}

// org is the organization the request manages: the viewer's, or for a
// platform admin the one ?org= names. slug is "" for the viewer's own.
func (h *Issuers) org(c echo.Context) (org store.Organization, slug string, err error) {
	v := viewerFrom(c)
	slug = c.QueryParam("org")
	if slug == "" || slug == v.Org.Slug {
		if !v.IsOrgAdmin() && !v.User.PlatformAdmin {
			return org, "", echo.NewHTTPError(http.StatusForbidden)
		}
		return v.Org, "", nil
	}
	if !v.User.PlatformAdmin {
		return org, "", echo.NewHTTPError(http.StatusNotFound)
	}
	org, err = h.Store.OrganizationBySlug(c.Request().Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		return org, "", echo.NewHTTPError(http.StatusNotFound)
	}
	return org, slug, err
}

func (h *Issuers) page(c echo.Context, status int, org store.Organization, slug string, props views.IssuersProps) error {
	list, err := h.Registry.List(c.Request().Context(), org.ID)
	if err != nil {
		return err
	}
	props.OrgName, props.OrgSlug = org.Name, slug
	for _, ti := range list {
		props.Rows = append(props.Rows, issuerRow(ti))
	}
	return render(c, status, views.Issuers(h.Pages.Page(c, "Trusted issuers"), props))
}

func issuerRow(ti store.TrustedIssuer) views.IssuerRow {
	r := views.IssuerRow{ID: ti.ID, Issuer: ti.Issuer, Keys: "discovery", Audiences: strings.Join(ti.Audiences, ", "),
		Algorithms: strings.Join(ti.Algorithms, ", "), MaxAge: "exp only"}
	if ti.JWKSURI != "" {
		r.Keys = ti.JWKSURI
	}
	if r.Audiences == "" {
		r.Audiences = "Portico"
	}
	if ti.MaxAge > 0 {
		r.MaxAge = ti.MaxAge.String()
	}
	m := []string{"sub ← " + ti.SubjectClaim}
	if ti.GroupsClaim != "" {
		m = append(m, "groups ← "+ti.GroupsClaim)
	}
	names := make([]string, 0, len(ti.AttributeClaims))
	for n := range ti.AttributeClaims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m = append(m, n+" ← "+ti.AttributeClaims[n])
	}
	r.Mapping = strings.Join(m, "; ")
	return r
}

func (h *Issuers) list(c echo.Context) error {
	org, slug, err := h.org(c)
	if err != nil {
		return err
	}
	return h.page(c, http.StatusOK, org, slug, views.IssuersProps{})
}

func (h *Issuers) create(c echo.Context) error {
	org, slug, err := h.org(c)
	if err != nil {
		return err
	}
	f := views.IssuerForm{Issuer: c.FormValue("issuer"), JWKSURI: c.FormValue("jwks_uri"), Audiences: c.FormValue("audiences"),
		SubjectClaim: c.FormValue("subject_claim"), GroupsClaim: c.FormValue("groups_claim"), Attributes: c.FormValue("attributes"),
		MaxAge: strings.TrimSpace(c.FormValue("max_age"))}
	form, _ := c.FormParams()
	f.Algorithms = form["algorithms"]
	in := authserver.IssuerInput{Issuer: f.Issuer, JWKSURI: f.JWKSURI, Audiences: lines(f.Audiences),
		SubjectClaim: f.SubjectClaim, GroupsClaim: f.GroupsClaim, Algorithms: f.Algorithms}
	errs := views.FieldErrors{}
	if f.MaxAge != "" {
		if in.MaxAge, err = time.ParseDuration(f.MaxAge); err != nil {
			errs["max_age"] = fmt.Sprintf("%q is not a duration (such as 10m)", f.MaxAge)
		}
	}
	if len(f.Algorithms) == 0 {
		errs["algorithms"] = "choose at least one"
	}
	for _, l := range lines(f.Attributes) {
		name, claim, ok := strings.Cut(l, "=")
		if !ok {
			errs["attribute_claims"] = "write each attribute as NAME=CLAIM"
			break
		}
		if in.AttributeClaims == nil {
			in.AttributeClaims = map[string]string{}
		}
		in.AttributeClaims[strings.TrimSpace(name)] = strings.TrimSpace(claim)
	}
	if len(errs) == 0 {
		_, err = h.Registry.Create(c.Request().Context(), org.ID, actorOf(viewerFrom(c)), in)
		var ve *authserver.ValidationError
		if errors.As(err, &ve) {
			for _, fe := range ve.Fields {
				field, _, _ := strings.Cut(fe.Field, "[")
				if _, ok := errs[field]; !ok {
					errs[field] = fe.Message
				}
			}
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return h.page(c, http.StatusUnprocessableEntity, org, slug, views.IssuersProps{Form: f, Errors: errs})
	}
	return c.Redirect(http.StatusSeeOther, issuersURL(slug))
}

func (h *Issuers) delete(c echo.Context) error {
	org, slug, err := h.org(c)
	if err != nil {
		return err
	}
	err = h.Registry.Delete(c.Request().Context(), org.ID, c.Param("id"), actorOf(viewerFrom(c)))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, issuersURL(slug))
}

func (h *Issuers) test(c echo.Context) error {
	org, slug, err := h.org(c)
	if err != nil {
		return err
	}
	token := strings.TrimSpace(c.FormValue("token"))
	props := views.IssuersProps{Token: token}
	if token == "" || len(token) > 16<<10 {
		props.Flash = &views.Flash{Kind: "error", Message: "Paste a token (at most 16 KB)."}
		return h.page(c, http.StatusUnprocessableEntity, org, slug, props)
	}
	p, err := h.Registry.Test(c.Request().Context(), org.ID, token)
	if err != nil {
		return err
	}
	if p.Refused != "" {
		props.Flash = &views.Flash{Kind: "error", Message: "Portico would refuse this token: " + p.Refused}
		return h.page(c, http.StatusOK, org, slug, props)
	}
	props.Flash = &views.Flash{Kind: "ok", Message: "Portico would accept this token."}
	props.Preview = []string{"sub: " + p.Subject, "ext_iss: " + p.Issuer, "org: " + p.Org}
	if len(p.Groups) > 0 {
		props.Preview = append(props.Preview, "groups: "+strings.Join(p.Groups, ", "))
	}
	if len(p.Features) > 0 {
		props.Preview = append(props.Preview, "features: "+strings.Join(p.Features, ", "))
	}
	names := make([]string, 0, len(p.Attributes))
	for n := range p.Attributes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		props.Preview = append(props.Preview, "attribute "+n+": "+p.Attributes[n])
	}
	if !p.Expiry.IsZero() {
		props.Preview = append(props.Preview, "expires: "+p.Expiry.Format(time.RFC3339))
	}
	return h.page(c, http.StatusOK, org, slug, props)
}

func issuersURL(slug string) string {
	if slug == "" {
		return "/issuers"
	}
	return "/issuers?org=" + slug
}

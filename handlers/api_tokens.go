package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/store"
	"portico/views"
)

// APITokens is the page where admins make and revoke admin API
// credentials: platform admins for the platform or any organization, org
// admins for their own organization. The partners service decides who may
// make what; this page only parses the form.
type APITokens struct {
	Store    *store.Store
	Partners *partners.Service
	Pages    *Pages
	Now      func() time.Time
}

// Mount registers the routes, for org admins (and platform admins).
func (h *APITokens) Mount(g *echo.Group) {
	h.Pages.AddNav("API tokens", "/api-tokens", orgAdmins)
	a := g.Group("/api-tokens", requireUser, requireRole(orgAdmins))
	a.GET("", h.show)
	a.POST("", h.create)
	a.POST("/:id/revoke", h.revoke)
}

var apiTokenFlash = map[string]string{"revoked": "The token was revoked; it stopped working at once."}

func (h *APITokens) render(c echo.Context, status int, props views.APITokensProps) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	scope := v.Org.ID
	if v.User.PlatformAdmin {
		scope = ""
	}
	ts, err := h.Partners.APITokens(ctx, managerOf(v), scope)
	if err != nil {
		return partnersError(err)
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.OrgID
	}
	slugs, err := h.Store.OrgSlugs(ctx, ids)
	if err != nil {
		return err
	}
	now := h.Now()
	props.Platform, props.OrgSlug = v.User.PlatformAdmin, v.Org.Slug
	for _, t := range ts {
		r := views.APITokenRow{ID: t.ID, Name: t.Name, Scope: "platform", Role: string(t.Role), Kind: t.Hint,
			Expires: t.ExpiresAt.UTC().Format("2006-01-02 15:04"), LastUsed: "never", State: "live"}
		if t.OrgID != "" {
			r.Scope = slugs[t.OrgID]
		}
		if t.ClientID != "" {
			r.Kind = "grant to client " + t.ClientID
		}
		if !t.LastUsedAt.IsZero() {
			r.LastUsed = t.LastUsedAt.UTC().Format("2006-01-02 15:04")
		}
		switch {
		case !t.RevokedAt.IsZero():
			r.State = "revoked"
		case !now.Before(t.ExpiresAt):
			r.State = "expired"
		default:
			stopped, err := h.Partners.MakerStanding(ctx, t)
			if err != nil {
				return err
			}
			if stopped != "" {
				r.State, r.Stopped = "stopped", stopped
			}
		}
		props.Tokens = append(props.Tokens, r)
	}
	if props.Days == "" {
		props.Days = "90"
	}
	p := h.Pages.Page(c, "API tokens")
	p.Flash = doneFlash(c, apiTokenFlash)
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, views.APITokens(p, props))
}

func (h *APITokens) show(c echo.Context) error {
	return h.render(c, http.StatusOK, views.APITokensProps{})
}

// create makes the credential and shows a token on the page this POST
// returns: it exists nowhere else, so it cannot wait for a redirect.
func (h *APITokens) create(c echo.Context) error {
	v := viewerFrom(c)
	ctx := c.Request().Context()
	props := views.APITokensProps{Name: c.FormValue("name"), Org: c.FormValue("org"), Role: c.FormValue("role"),
		Days: c.FormValue("days"), ClientID: c.FormValue("client_id")}
	in := partners.APITokenInput{Name: props.Name, Role: store.APITokenRole(props.Role), ClientID: props.ClientID, OrgID: v.Org.ID}
	errs := views.FieldErrors{}
	if d, err := strconv.Atoi(props.Days); err != nil {
		errs["expires_in"] = "Give a number of days."
	} else {
		in.TTL = time.Duration(d) * 24 * time.Hour
	}
	if v.User.PlatformAdmin {
		in.OrgID = ""
		if props.Org != "" {
			o, err := h.Store.OrganizationBySlug(ctx, props.Org)
			if errors.Is(err, store.ErrNotFound) {
				errs["org"] = "No such organization."
			} else if err != nil {
				return err
			}
			in.OrgID = o.ID
		}
	}
	if len(errs) > 0 {
		props.Errors = errs
		return h.render(c, http.StatusUnprocessableEntity, props)
	}
	nt, err := h.Partners.CreateAPIToken(ctx, managerOf(v), in)
	if fe, ok := asFieldErrors(err); ok {
		props.Errors = fe
		return h.render(c, http.StatusUnprocessableEntity, props)
	}
	if err != nil {
		return partnersError(err)
	}
	if nt.Secret == "" {
		return c.Redirect(http.StatusSeeOther, "/api-tokens")
	}
	return h.render(c, http.StatusOK, views.APITokensProps{NewToken: nt.Secret})
}

func (h *APITokens) revoke(c echo.Context) error {
	v := viewerFrom(c)
	_, err := h.Partners.RevokeAPIToken(c.Request().Context(), managerOf(v), c.Param("id"))
	if err != nil {
		return partnersError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/api-tokens?done=revoked")
}

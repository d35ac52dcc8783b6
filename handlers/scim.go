package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// SCIMProvider is the SCIM 2.0 service provider as the web layer sees it: a
// plain handler mounted under SCIMPrefix outside the portal's session and
// CSRF middleware (directories call it with their bearer token), and the
// token management the org admin's page needs.
type SCIMProvider interface {
	http.Handler
	BaseURL(slug string) string
	IssueToken(ctx context.Context, actor store.Actor, orgID string) (string, error)
	RevokeToken(ctx context.Context, actor store.Actor, orgID string) error
}

// SCIMPrefix is where the provider's routes live: /scim/v2/{org}/….
const SCIMPrefix = "/scim/v2/"

// SCIMPage serves the org admin's directory-sync page: the base URL, the
// token (created or rotated, shown once) and the last sync events.
type SCIMPage struct {
	Store    *store.Store
	Provider SCIMProvider
	Pages    *Pages
}

// Mount registers the routes, all for org admins.
func (h *SCIMPage) Mount(g *echo.Group) {
	a := g.Group("/org/scim", requireUser, requireRole(orgAdmins))
	a.GET("", h.show)
	a.POST("/token", h.issue)
	a.POST("/token/revoke", h.revoke)
}

var scimFlash = map[string]string{"revoked": "The token was revoked: directory sync is off until you create a new one."}

func (h *SCIMPage) render(c echo.Context, status int, newToken string) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	props := views.SCIMProps{OrgName: v.Org.Name, BaseURL: h.Provider.BaseURL(v.Org.Slug), NewToken: newToken}
	t, err := h.Store.SCIMTokenOf(ctx, v.Org.ID)
	switch {
	case err == nil:
		props.HasToken, props.Hint, props.Created = true, t.Hint, t.CreatedAt.UTC().Format("2006-01-02 15:04")
		props.LastUsed = "never"
		if !t.LastUsedAt.IsZero() {
			props.LastUsed = t.LastUsedAt.UTC().Format("2006-01-02 15:04") + " UTC"
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	events, err := h.Store.AuditEvents(ctx, store.AuditFilter{OrgID: v.Org.ID, ActionPrefix: "scim.", Limit: 20})
	if err != nil {
		return err
	}
	for _, e := range events {
		props.Events = append(props.Events, views.SCIMEvent{At: e.At.UTC().Format(time.DateTime), Action: e.Action,
			Target: e.TargetType + " " + e.TargetID})
	}
	p := h.Pages.Page(c, "Directory sync")
	p.Flash = doneFlash(c, scimFlash)
	return render(c, status, views.SCIM(p, props))
}

func (h *SCIMPage) show(c echo.Context) error { return h.render(c, http.StatusOK, "") }

// issue creates or rotates the token and shows it on the page this POST
// returns: it exists nowhere else, so it cannot wait for a redirect.
func (h *SCIMPage) issue(c echo.Context) error {
	v := viewerFrom(c)
	tok, err := h.Provider.IssueToken(c.Request().Context(), actorOf(v), v.Org.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.render(c, http.StatusOK, tok)
}

func (h *SCIMPage) revoke(c echo.Context) error {
	v := viewerFrom(c)
	if err := h.Provider.RevokeToken(c.Request().Context(), actorOf(v), v.Org.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/org/scim?done=revoked")
}

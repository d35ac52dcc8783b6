package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/store"
	"portico/views"
)

// ResetLinks lets an org admin issue a password reset link for one of
// their organization's identity-pool users, and a platform admin for any
// organization's. The user is always looked up within the organization
// the route names (the viewer's own, or the slug a platform admin chose),
// so another organization's user ID answers 404.
type ResetLinks struct {
	Store    *store.Store
	Pages    *Pages
	Accounts *pool.Accounts
	BaseURL  string
	Log      *slog.Logger
}

// Mount registers the routes.
func (h *ResetLinks) Mount(g *echo.Group) {
	g.POST("/org/users/:id/reset-link", h.issueOwn, requireUser, requireRole(orgAdmins))
	g.POST("/admin/orgs/:slug/users/:id/reset-link", h.issueAny, requireUser, requireRole(platformAdmins))
}

func (h *ResetLinks) issueOwn(c echo.Context) error {
	return h.issue(c, viewerFrom(c).Org, "/org/members")
}

func (h *ResetLinks) issueAny(c echo.Context) error {
	org, err := h.Store.OrganizationBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	return h.issue(c, org, "/admin/orgs/"+org.Slug)
}

func (h *ResetLinks) issue(c echo.Context, org store.Organization, back string) error {
	v := viewerFrom(c)
	by := pool.Issuer{Actor: actorOf(v), PlatformAdmin: v.User.PlatformAdmin}
	link, err := h.Accounts.IssueResetLink(c.Request().Context(), by, org.ID, c.Param("id"))
	switch {
	case errors.Is(err, pool.ErrNotPoolUser):
		return &PageError{Status: http.StatusConflict, Err: err,
			Message: "This person signs in through the organization's identity provider and has no Portico password to reset."}
	case errors.Is(err, pool.ErrPlatformAdminTarget):
		return &PageError{Status: http.StatusForbidden, Err: err, Message: "Only a platform administrator can reset a platform administrator's password."}
	case err != nil:
		return err
	}
	h.Log.Info("password reset link issued", "user", link.UserID, "org", org.ID, "by", v.User.ID)
	// The token is in this page only: nothing may keep a copy.
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.ResetLinkIssued(h.Pages.Page(c, "Password reset link"), views.ResetLinkProps{
		Email: link.Email, URL: link.URL(h.BaseURL), ExpiresAt: link.ExpiresAt.UTC().Format("2006-01-02 15:04"), Back: back}))
}

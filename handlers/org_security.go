package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/views"
)

// OrgSecurity lets an organization's admin set its sign-in security: for
// now, whether everyone must enrol a second factor at first sign-in.
// Platform admins set the same on the organization's page.
type OrgSecurity struct {
	Partners *partners.Service
	Pages    *Pages
}

// Mount registers the routes, for org admins of their own organization.
func (h *OrgSecurity) Mount(g *echo.Group) {
	h.Pages.AddNav("Sign-in security", "/org/security", orgAdmins)
	a := g.Group("/org/security", requireUser, requireRole(orgAdmins))
	a.GET("", h.show)
	a.POST("", h.save)
}

func (h *OrgSecurity) show(c echo.Context) error {
	v := viewerFrom(c)
	p := h.Pages.Page(c, "Sign-in security")
	p.Flash = doneFlash(c, map[string]string{"saved": "Saved."})
	return render(c, http.StatusOK, views.OrgSecurity(p, views.OrgSecurityProps{OrgName: v.Org.Name, RequireMFA: v.Org.RequireMFA,
		RequirePasskey: v.Org.RequirePasskey}))
}

// save changes only the viewer's own organization, found from the session,
// never from the form.
func (h *OrgSecurity) save(c echo.Context) error {
	v := viewerFrom(c)
	require, passkeys := c.FormValue("require_mfa") == "on", c.FormValue("require_passkey") == "on"
	if _, err := h.Partners.UpdateOrg(c.Request().Context(), actorOf(v), v.Org.Slug,
		partners.OrgInput{RequireMFA: &require, RequirePasskey: &passkeys}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/org/security?done=saved")
}

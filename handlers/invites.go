package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/views"
)

// Invites serves the invitation link: anyone holding it may create the
// invited account, once, before it expires. The link's token is the only
// credential; it appears only in the link itself (the form posts back to
// it), and Referrer-Policy: same-origin keeps it from leaking to other sites.
type Invites struct {
	Partners  *partners.Service
	Pages     *Pages
	Passwords partners.Passwords
}

// Mount registers the routes; they are public by design.
func (h *Invites) Mount(g *echo.Group) {
	g.GET("/invite/:token", h.show)
	g.POST("/invite/:token", h.accept)
}

// errInviteGone is what every unusable link shows: it never says whether
// the link was unknown, used, revoked or expired.
var errInviteGone = &PageError{Status: http.StatusGone,
	Message: "This invitation link is not valid any more. Ask the person who invited you for a new one."}

func (h *Invites) page(c echo.Context, status int, f views.AcceptForm) error {
	p := h.Pages.Page(c, "Join "+f.OrgName)
	p.Narrow = true
	return render(c, status, views.AcceptInvitation(p, f))
}

func (h *Invites) show(c echo.Context) error {
	inv, org, err := h.Partners.PendingInvitation(c.Request().Context(), c.Param("token"))
	if errors.Is(err, partners.ErrInvitationUnusable) {
		return errInviteGone
	}
	if err != nil {
		return err
	}
	return h.page(c, http.StatusOK, views.AcceptForm{Action: c.Request().URL.Path, OrgName: org.Name,
		Email: inv.Email, Role: string(inv.Role)})
}

func (h *Invites) accept(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	inv, org, err := h.Partners.PendingInvitation(ctx, token)
	if errors.Is(err, partners.ErrInvitationUnusable) {
		return errInviteGone
	}
	if err != nil {
		return err
	}
	f := views.AcceptForm{Action: c.Request().URL.Path, OrgName: org.Name, Email: inv.Email, Role: string(inv.Role),
		Name: c.FormValue("name")}
	_, err = h.Partners.AcceptInvitation(ctx, h.Passwords, token, partners.AcceptInput{Name: f.Name, Password: c.FormValue("password")})
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, "/login?joined=1")
	case errors.Is(err, partners.ErrInvitationUnusable):
		return errInviteGone
	}
	errs, ok := asFieldErrors(err)
	if !ok {
		return err
	}
	f.Errors = errs
	return h.page(c, http.StatusUnprocessableEntity, f)
}

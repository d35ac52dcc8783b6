package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/views"
)

// logoutConfirmPath is the page RP-initiated logout sends the browser to.
const logoutConfirmPath = "/logout/confirm"

// LogoutConfirmURL is the authorization server's Config.LogoutURL: where
// RP-initiated logout (the end_session endpoint) sends the browser so the
// portal session ends too, with where to go afterwards.
func LogoutConfirmURL(next string) string {
	if next == "" {
		return logoutConfirmPath
	}
	return logoutConfirmPath + "?next=" + url.QueryEscape(next)
}

// LogoutRedirects is what the logout page asks the authorization server:
// whether uri is exactly a post_logout_redirect_uri some client registered
// (with the state the end_session endpoint may have added). *authserver.Server
// implements it; the handlers find it on Config.OAuth by type assertion.
type LogoutRedirects interface {
	PostLogoutRedirectAllowed(ctx context.Context, uri string) bool
}

// Logout is the confirmation step of RP-initiated logout. An application
// sends the browser here through the end_session endpoint; the question
// and its CSRF-protected form keep a cross-site link or image from signing
// anyone out, and the destination is checked again on submit so the page
// is no open redirect.
type Logout struct {
	Sessions *Sessions
	Pages    *Pages
	// Redirects vouches for registered post-logout URIs; nil allows local
	// paths only.
	Redirects LogoutRedirects
}

// Mount registers the confirmation page and its form.
func (h *Logout) Mount(g *echo.Group) {
	g.GET(logoutConfirmPath, h.show)
	g.POST(logoutConfirmPath, h.submit)
}

// show asks the signed-in person; someone already signed out has nothing
// to confirm and goes straight on.
func (h *Logout) show(c echo.Context) error {
	next := c.QueryParam("next")
	if viewerFrom(c) == nil {
		return c.Redirect(http.StatusSeeOther, h.destination(c.Request().Context(), next))
	}
	p := h.Pages.Page(c, "Sign out")
	p.Narrow = true
	return render(c, http.StatusOK, views.LogoutConfirm(p, views.LogoutConfirmProps{Next: next}))
}

// submit ends the session and leaves for a vetted destination.
func (h *Logout) submit(c echo.Context) error {
	h.Sessions.End(c)
	return c.Redirect(http.StatusSeeOther, h.destination(c.Request().Context(), c.FormValue("next")))
}

// destination is next when it is a local path or a registered post-logout
// redirect URI, and the sign-in page otherwise.
func (h *Logout) destination(ctx context.Context, next string) string {
	switch {
	case next == "":
	case isLocalPath(next):
		return next
	case h.Redirects != nil && h.Redirects.PostLogoutRedirectAllowed(ctx, next):
		return next
	}
	return "/login"
}

// isLocalPath accepts an absolute path on this host only: not
// scheme-relative ("//evil"), no backslash (browsers read "/\evil" as
// "//evil"), no control characters that could split a header.
func isLocalPath(p string) bool {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// logoutRedirects finds the optional LogoutRedirects ability of the
// authorization server; without one only local paths are allowed.
func logoutRedirects(o OAuthServer) LogoutRedirects {
	r, _ := o.(LogoutRedirects)
	return r
}

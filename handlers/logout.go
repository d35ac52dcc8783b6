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
// portal session ends too, with the ticket naming where to go afterwards.
func LogoutConfirmURL(ticket string) string {
	if ticket == "" {
		return logoutConfirmPath
	}
	return logoutConfirmPath + "?logout=" + url.QueryEscape(ticket)
}

// LogoutRedirects is what the logout page asks the authorization server:
// where a logout ticket from end_session leads (a post-logout URI registered
// by the client that the request named), and whether an id_token_hint named
// that client. *authserver.Server implements it; the handlers find it on
// Config.OAuth by type assertion.
type LogoutRedirects interface {
	LogoutDestination(ctx context.Context, ticket string) (uri string, hinted, ok bool)
}

// Logout is the confirmation step of RP-initiated logout. An application
// sends the browser here through the end_session endpoint; the question
// and its CSRF-protected form keep a cross-site link or image from signing
// anyone out. The page leaves only for a local path or where a valid ticket
// leads, and, when no id_token_hint proved which application asked, only
// after the person clicks: a client_id anyone can name must not turn the
// portal into a silent redirector.
type Logout struct {
	Sessions *Sessions
	Pages    *Pages
	// Redirects reads end_session's tickets; nil allows local paths only.
	Redirects LogoutRedirects
}

// Mount registers the confirmation page and its form.
func (h *Logout) Mount(g *echo.Group) {
	g.GET(logoutConfirmPath, h.show)
	g.POST(logoutConfirmPath, h.submit)
}

// show asks the signed-in person. Someone already signed out has nothing to
// confirm: they go straight on to a local path or a hinted destination, and
// are asked to click through to an unhinted one.
func (h *Logout) show(c echo.Context) error {
	next, ticket := c.QueryParam("next"), c.QueryParam("logout")
	dest, direct := h.destination(c.Request().Context(), next, ticket)
	if viewerFrom(c) == nil && direct {
		return c.Redirect(http.StatusSeeOther, dest)
	}
	p := h.Pages.Page(c, "Sign out")
	p.Narrow = true
	props := views.LogoutConfirmProps{Next: next, Ticket: ticket, SignedOut: viewerFrom(c) == nil}
	if !direct || !isLocalPath(dest) {
		props.Destination = dest
	}
	return render(c, http.StatusOK, views.LogoutConfirm(p, props))
}

// submit ends the session and leaves for the vetted destination: the click
// on the form is the confirmation an unhinted destination needs.
func (h *Logout) submit(c echo.Context) error {
	h.Sessions.End(c)
	dest, _ := h.destination(c.Request().Context(), c.FormValue("next"), c.FormValue("logout"))
	return c.Redirect(http.StatusSeeOther, dest)
}

// destination is where the page may send the browser: the ticket's URI
// when the authorization server vouches for it, else next when it is a
// local path, else the sign-in page. direct says whether it may go there
// without a click: local paths and hinted tickets may.
func (h *Logout) destination(ctx context.Context, next, ticket string) (dest string, direct bool) {
	if ticket != "" && h.Redirects != nil {
		if uri, hinted, ok := h.Redirects.LogoutDestination(ctx, ticket); ok {
			return uri, hinted
		}
	}
	if next != "" && isLocalPath(next) {
		return next, true
	}
	return "/login", true
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

package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"portico/views"
)

// ErrConsentRequired is what a LoginCompleter returns when the user must
// allow a third-party app first (matched with errors.Is).
var ErrConsentRequired = errors.New("sign-in: the user's consent is required")

// ConsentServer is the authorization server's consent step as the portal
// sees it; cmd/portico adapts authserver to it.
type ConsentServer interface {
	// ConsentPrompt describes the pending request; ErrUnknownAuthRequest
	// when it is gone.
	ConsentPrompt(ctx context.Context, authRequestID string) (ConsentPrompt, error)
	// GrantConsent records that userID allowed the request's client its
	// scopes.
	GrantConsent(ctx context.Context, authRequestID, userID string) error
	// DenyConsent ends the request and returns the client redirect that
	// carries access_denied.
	DenyConsent(ctx context.Context, authRequestID string) (redirect string, err error)
}

// ConsentPrompt is a pending request as the consent page shows it.
type ConsentPrompt struct {
	ClientID   string
	ClientName string
	OrgName    string
	LogoURL    string
	Scopes     []views.ConsentScope
	// Unverified: a metadata-document client, described by itself only.
	Unverified *views.UnverifiedClient
}

// Consent serves the consent page that sits between sign-in (and the
// policy, and any step-up) and the code: a third-party app gets nothing
// until the user clicks Allow.
type Consent struct {
	Login  *Login
	Server ConsentServer
	Pages  *Pages
}

// consentPath is where sign-in sends the browser when consent is needed.
const consentPath = "/login/consent"

func consentURL(authRequest string) string {
	return consentPath + "?auth_request=" + url.QueryEscape(authRequest)
}

// Mount registers the routes.
func (h *Consent) Mount(g *echo.Group) {
	g.GET(consentPath, h.show)
	g.POST(consentPath, h.decide)
}

var errConsentGone = &PageError{Status: http.StatusBadRequest,
	Message: "This sign-in request has expired or was already used. Go back to the app and try again."}

func (h *Consent) show(c echo.Context) error {
	id := c.QueryParam("auth_request")
	v := viewerFrom(c)
	if v == nil {
		return c.Redirect(http.StatusSeeOther, "/login?auth_request="+url.QueryEscape(id))
	}
	if h.Server == nil || id == "" {
		return errConsentGone
	}
	pr, err := h.Server.ConsentPrompt(c.Request().Context(), id)
	if errors.Is(err, ErrUnknownAuthRequest) {
		return errConsentGone
	}
	if err != nil {
		return err
	}
	p := h.Pages.Page(c, "Allow "+pr.ClientName+"?")
	p.Narrow = true
	return render(c, http.StatusOK, views.ConsentPage(p, views.Consent{AuthRequest: id, AppName: pr.ClientName,
		OrgName: pr.OrgName, LogoURL: pr.LogoURL, UserEmail: v.User.Email, Scopes: pr.Scopes,
		Unverified: pr.Unverified}))
}

func (h *Consent) decide(c echo.Context) error {
	id := c.FormValue("auth_request")
	v := viewerFrom(c)
	if v == nil {
		return c.Redirect(http.StatusSeeOther, "/login?auth_request="+url.QueryEscape(id))
	}
	if h.Server == nil || id == "" {
		return errConsentGone
	}
	ctx := c.Request().Context()
	switch c.FormValue("decision") {
	case "allow":
		err := h.Server.GrantConsent(ctx, id, v.User.ID)
		if errors.Is(err, ErrUnknownAuthRequest) {
			return errConsentGone
		}
		if err != nil {
			return err
		}
		h.Login.Log.Info("consent granted", "user", v.User.ID, "auth_request", id)
		// Back through the same completion as sign-in: the policy decides
		// again, and the code is issued.
		return h.Login.afterSession(c, v.User, v.Session, id, "")
	case "deny":
		to, err := h.Server.DenyConsent(ctx, id)
		if errors.Is(err, ErrUnknownAuthRequest) {
			return errConsentGone
		}
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, to)
	}
	return &PageError{Status: http.StatusBadRequest, Message: "Choose Allow or Deny."}
}

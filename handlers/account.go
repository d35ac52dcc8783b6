package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// Account lets people see and prune their remembered locations and their
// signed-in browsers.
type Account struct {
	Store *store.Store
	Pages *Pages
	Now   func() time.Time
	// Sessions rotates the session token after a password change; Sleep
	// waits by the delay schedule after a wrong current password (nil is a
	// real wait).
	Sessions *Sessions
	Sleep    func(ctx context.Context, d time.Duration)
}

// Mount registers the routes.
func (h *Account) Mount(g *echo.Group) {
	h.Pages.AddNav("Account", "/account", anyone)
	a := g.Group("/account", requireUser)
	a.GET("", h.show)
	a.GET("/password", h.showPassword)
	a.POST("/password", h.changePassword)
	a.POST("/locations/forget", h.forgetLocation)
	a.POST("/sessions/:id/end", h.endSession)
	a.POST("/apps/:client_id/revoke", h.revokeApp)
}

func (h *Account) show(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	locs, err := h.Store.Locations(ctx, v.User.ID)
	if err != nil {
		return err
	}
	sessions, err := h.Store.UserSessions(ctx, v.User.ID, h.Now())
	if err != nil {
		return err
	}
	props := views.AccountProps{Name: v.User.Name, Email: v.User.Email, OrgName: v.Org.Name, Role: string(v.User.Role),
		Groups: v.User.Groups(), Attribution: policyeditor.IP2LocationAttributionHTML, HasPassword: v.User.PasswordHash != ""}
	if c.QueryParam("changed") == "password" {
		props.Notice = "Your password was changed. Your other browsers were signed out."
	}
	if props.History, err = signInHistory(ctx, h.Store, v.User.ID); err != nil {
		return err
	}
	if t, err := h.Store.UserTOTP(ctx, v.User.ID); err == nil && !t.ConfirmedAt.IsZero() {
		props.MFA = true
		if props.RecoveryLeft, err = h.Store.UnusedRecoveryCodes(ctx, v.User.ID); err != nil {
			return err
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	apps, err := h.Store.ConnectedApps(ctx, v.User.ID)
	if err != nil {
		return err
	}
	for _, a := range apps {
		props.ConnectedApps = append(props.ConnectedApps, views.ConnectedApp{ClientID: a.ClientID, Name: a.ClientName,
			OrgName: a.OrgName, Scopes: a.Scopes, GrantedAt: a.GrantedAt})
	}
	for _, l := range locs {
		props.Locations = append(props.Locations, views.AccountLocation{Network: l.Network.String(), Country: l.Country, LastUsed: l.LastUsedAt})
	}
	for _, s := range sessions {
		props.Sessions = append(props.Sessions, views.AccountSession{ID: s.ID, Current: s.ID == v.Session.ID, IP: s.IP,
			UserAgent: s.UserAgent, Created: s.CreatedAt, LastSeen: s.LastSeenAt, MFA: !s.MFAAt.IsZero()})
	}
	return render(c, http.StatusOK, views.Account(h.Pages.Page(c, "Account"), props))
}

func (h *Account) forgetLocation(c echo.Context) error {
	p, err := netip.ParsePrefix(c.FormValue("network"))
	if err != nil {
		return &PageError{Status: http.StatusBadRequest, Message: "That is not a network Portico remembers for you."}
	}
	err = h.Store.ForgetLocation(c.Request().Context(), viewerFrom(c).User.ID, p)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account")
}

// endSession signs out one of the viewer's other browsers. The session is
// looked up by the viewer's own user ID, so another person's session ID
// ends nothing.
func (h *Account) endSession(c echo.Context) error {
	v := viewerFrom(c)
	if err := h.Store.DeleteSession(c.Request().Context(), v.User.ID, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account")
}

// revokeApp withdraws the viewer's consent to a third-party app and, with
// it, every refresh token the app holds for them (and the access tokens
// issued from those). Only the viewer's own consent is looked up, so
// another person's app ends nothing.
func (h *Account) revokeApp(c echo.Context) error {
	v := viewerFrom(c)
	ctx := c.Request().Context()
	clientID := c.Param("client_id")
	err := h.Store.InTx(ctx, func(tx *store.Store) error {
		before, err := tx.Consent(ctx, v.User.ID, clientID)
		if err != nil {
			return err
		}
		if err := tx.RevokeConsent(ctx, v.User.ID, clientID, h.Now()); err != nil {
			return err
		}
		return tx.Audit(ctx, actorOf(v).Event(v.User.OrgID, "consent.revoke", "client", clientID), before, nil)
	})
	if errors.Is(err, store.ErrNotFound) {
		return &PageError{Status: http.StatusNotFound, Message: "That app is not connected to your account."}
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account")
}

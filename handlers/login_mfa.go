package handlers

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

func totpPurpose(userID string) string { return "totp:" + userID }

func (h *Login) renderMFA(c echo.Context, status int, m views.MFAChallenge) error {
	p := h.Pages.Page(c, "Two-step verification")
	p.Narrow = true
	return render(c, status, views.LoginMFA(p, m))
}

func (h *Login) showMFA(c echo.Context) error {
	state := c.QueryParam("state")
	p, _, ok, err := h.pendingFromState(c, state, true)
	if err != nil {
		return err
	}
	if !ok || p.UserID == "" {
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	return h.renderMFA(c, http.StatusOK, views.MFAChallenge{State: state})
}

// submitMFA checks a TOTP or recovery code for a pending sign-in or step-up.
func (h *Login) submitMFA(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.FormValue("state")
	p, _, ok, err := h.pendingFromState(c, state, true)
	if err != nil {
		return err
	}
	if !ok || p.UserID == "" {
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	u, err := h.Store.User(ctx, p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	now := h.Now()
	if now.Before(u.LockedUntil) {
		return h.renderMFA(c, http.StatusTooManyRequests, views.MFAChallenge{State: state,
			Error: fmt.Sprintf("Too many failed attempts. This account is locked until %s UTC.", u.LockedUntil.UTC().Format("15:04"))})
	}
	good, err := checkSecondFactor(ctx, h.Store, h.Sealer, u.ID, c.FormValue("code"), now)
	if err != nil {
		return err
	}
	if !good {
		locked, _, err := h.countFailure(ctx, u)
		if err != nil {
			return err
		}
		h.Log.Info("second factor failed", "user", u.ID, "ip", c.RealIP(), "locked", locked)
		h.Sleep(ctx, slowStep)
		return h.renderMFA(c, http.StatusUnauthorized, views.MFAChallenge{State: state, Error: "That code is not valid."})
	}
	if took, err := h.Store.TakePendingLogin(ctx, p.ID); err != nil || !took {
		if err != nil {
			return err
		}
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	if _, u, err = h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins, x.LockedUntil, x.LastLoginAt = 0, time.Time{}, now
		return nil
	}); err != nil {
		return err
	}
	var s store.Session
	if v := viewerFrom(c); v != nil && v.User.ID == u.ID {
		// Step-up inside a session that already exists.
		if err := h.Store.SetSessionMFA(ctx, v.Session.ID, now); err != nil {
			return err
		}
		if err := h.Sessions.Rotate(c); err != nil { // the stepped-up session gets a new token
			return err
		}
		s = v.Session
		s.MFAAt = now
	} else {
		// A fresh sign-in: the portal's policy decides again with the MFA
		// just done before any session exists.
		if ok, err := h.afterSecondFactor(c, u, p.ConnectionID, now); !ok {
			return err
		}
		if s, err = h.Sessions.Start(c, u, now, p.ConnectionID); err != nil {
			return err
		}
	}
	h.Log.Info("second factor passed", "user", u.ID, "ip", c.RealIP())
	return h.afterSession(c, u, s, p.AuthRequest, p.Next)
}

package handlers

import (
	"net/http"
	"net/url"
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

// mfaPage fills the code page for a pending sign-in: a person without a
// confirmed factor, in an organization that requires one, enrols here
// (the pending secret is kept until confirmed); anyone else without a
// factor has nothing to enter, and ok is false.
func (h *Login) mfaPage(c echo.Context, u store.User, state string) (m views.MFAChallenge, ok bool, err error) {
	ctx := c.Request().Context()
	m.State = state
	enrolled, err := h.hasTOTP(c, u.ID)
	if err != nil || enrolled {
		return m, err == nil, err
	}
	org, err := h.Store.Organization(ctx, u.OrgID)
	if err != nil || !org.RequireMFA {
		return m, false, err
	}
	e, _, err := totpEnrollment(ctx, h.Store, h.Sealer, u)
	m.Enroll, m.QRDataURL, m.Secret = true, e.QRDataURL, e.Secret
	return m, err == nil, err
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
	u, err := h.Store.User(c.Request().Context(), p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	m, ok, err := h.mfaPage(c, u, state)
	if err != nil {
		return err
	}
	if !ok {
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	return h.renderMFA(c, http.StatusOK, m)
}

// submitMFA checks a TOTP or recovery code for a pending sign-in or
// step-up, or confirms the enrolment an organization requires at sign-in.
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
	m, ok, err := h.mfaPage(c, u, state)
	if err != nil {
		return err
	}
	if !ok {
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	now := h.Now()
	code := c.FormValue("code")
	check := func() (bool, error) { return checkSecondFactor(ctx, h.Store, h.Sealer, u.ID, code, now) }
	if m.Enroll {
		check = totpStepCheck(ctx, h.Store, u.ID, m.Secret, code, now)
	}
	res, err := factorAttempt(ctx, h.Store, h.Sleep, u.ID, now, check)
	if err != nil {
		return err
	}
	if !res.OK {
		h.Log.Info("second factor failed", "user", u.ID, "ip", c.RealIP(), "locked", !res.LockedUntil.IsZero())
		m.Error = "That code is not valid."
		if !res.LockedUntil.IsZero() {
			m.Error = msgFactorLocked(res.LockedUntil)
			return h.renderMFA(c, http.StatusTooManyRequests, m)
		}
		return h.renderMFA(c, http.StatusUnauthorized, m)
	}
	if took, err := h.Store.TakePendingLogin(ctx, p.ID); err != nil || !took {
		if err != nil {
			return err
		}
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	var codes []string
	if m.Enroll {
		var hashes []string
		codes, hashes = newRecoveryCodes()
		change := factorChange{Added: true, Where: "sign-in", IP: c.RealIP()}
		err := h.Store.InTx(ctx, func(tx *store.Store) error {
			if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
				return err
			}
			return auditFactorChange(ctx, tx, store.Actor{UserID: u.ID, Label: u.Email}, u, change)
		})
		if err != nil {
			return err
		}
		notifyFactorChange(h.Mailer, h.Log, u, change, now)
		h.Log.Info("TOTP enrolled at sign-in", "user", u.ID, "ip", c.RealIP())
	}
	if _, u, err = h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins, x.LockedUntil, x.LastLoginAt = 0, time.Time{}, now
		return nil
	}); err != nil {
		return err
	}
	var s store.Session
	if v := viewerFrom(c); v != nil && v.User.ID == u.ID && !m.Enroll {
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
		if s, err = h.startSession(c, u, now, p.ConnectionID); err != nil {
			return err
		}
	}
	h.Log.Info("second factor passed", "user", u.ID, "ip", c.RealIP())
	if len(codes) > 0 {
		m.Error, m.RecoveryCodes, m.Continue = "", codes, continueAfterSignIn(p)
		return h.renderMFA(c, http.StatusOK, m)
	}
	return h.afterSession(c, u, s, p.AuthRequest, p.Next)
}

// continueAfterSignIn is where the recovery-codes page links on: back
// through the sign-in page, which completes a pending app sign-in for the
// session just started, or to the portal page the person came for.
func continueAfterSignIn(p store.PendingLogin) string {
	if p.AuthRequest == "" {
		return safeNext(p.Next)
	}
	q := url.Values{"auth_request": {p.AuthRequest}}
	if p.Next != "" {
		q.Set("next", p.Next)
	}
	return "/login?" + q.Encode()
}

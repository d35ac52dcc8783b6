package handlers

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/store"
	"portico/views"
)

func totpPurpose(userID string) string { return "totp:" + userID }

func (h *Login) renderMFA(c echo.Context, status int, m views.MFAChallenge) error {
	p := h.Pages.Page(c, "Two-step verification")
	p.Narrow = true
	return render(c, status, views.LoginMFA(p, m))
}

// needPasskey is the hint (need=passkey) that the pending step-up can only
// be met by a passkey. It only shapes the page: the authorization server
// (and the organization's setting, below) decide what counts.
const needPasskey = "passkey"

// mfaPage fills the second-factor page for a pending sign-in. A person
// without a confirmed factor, in an organization that requires one, enrols
// here (a TOTP secret kept until confirmed, or a passkey); in an
// organization that requires passkeys only a passkey (or a recovery code)
// is accepted. Anyone else without a factor has nothing to enter, and ok
// is false.
func (h *Login) mfaPage(c echo.Context, u store.User, p store.PendingLogin, state, need string) (m views.MFAChallenge, ok bool, err error) {
	ctx := c.Request().Context()
	m.State = state
	org, err := h.Store.Organization(ctx, u.OrgID)
	if err != nil {
		return m, false, err
	}
	totp, err := h.hasTOTP(c, u.ID)
	if err != nil {
		return m, false, err
	}
	n, err := h.Store.CountPasskeys(ctx, u.ID)
	if err != nil {
		return m, false, err
	}
	m.HasPasskey = n > 0 && h.RP != nil
	m.NoTOTP = org.RequirePasskey || need == needPasskey
	m.Passkey = views.PasskeyCeremony{ID: "passkey-mfa", Mode: "get", Begin: "/login/mfa/passkey/begin",
		Action: "/login/mfa/passkey", Label: "Use my passkey", State: state}
	if n > 0 {
		return m, true, nil
	}
	if totp && !m.NoTOTP {
		return m, true, nil
	}
	// No factor that counts here: enrol one, but only at a sign-in (the
	// first factor is seconds old), never at a step-up inside a session.
	if v := viewerFrom(c); v != nil && v.User.ID == u.ID {
		return m, false, nil
	}
	switch {
	case org.RequirePasskey && h.RP != nil:
		m.PasskeyEnroll = true
		m.Passkey.Mode, m.Passkey.Label = "create", "Create a passkey"
		return m, true, nil
	case org.RequireMFA && !totp:
		e, _, err := totpEnrollment(ctx, h.Store, h.Sealer, u)
		m.Enroll, m.QRDataURL, m.Secret = true, e.QRDataURL, e.Secret
		if h.RP != nil {
			m.PasskeyEnroll = true
			m.Passkey.Mode, m.Passkey.Label = "create", "Or create a passkey instead"
		}
		return m, err == nil, err
	}
	return m, false, nil
}

// pendingSecondFactor loads the pending sign-in named by state (bound to
// this browser) and its user.
func (h *Login) pendingSecondFactor(c echo.Context, state string) (store.PendingLogin, store.User, bool, error) {
	p, _, ok, err := h.pendingFromState(c, state, true)
	if err != nil || !ok || p.UserID == "" {
		return p, store.User{}, false, err
	}
	u, err := h.Store.User(c.Request().Context(), p.OrgID, p.UserID)
	return p, u, err == nil, err
}

func (h *Login) showMFA(c echo.Context) error {
	state := c.QueryParam("state")
	p, u, ok, err := h.pendingSecondFactor(c, state)
	if err != nil {
		return err
	}
	if !ok {
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	m, ok, err := h.mfaPage(c, u, p, state, c.QueryParam("need"))
	if err != nil {
		return err
	}
	if !ok {
		if c.QueryParam("need") == needPasskey {
			return &PageError{Status: http.StatusForbidden, Err: ErrStepUpRequired, Message: msgNeedsPasskey}
		}
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	return h.renderMFA(c, http.StatusOK, m)
}

const msgNeedsPasskey = "This app needs a passkey. Add one under Passkeys in your account, then open the app again."

// submitMFA checks a TOTP or recovery code for a pending sign-in or
// step-up, or confirms the enrolment an organization requires at sign-in.
// Where only a passkey counts, only a recovery code is accepted here.
func (h *Login) submitMFA(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.FormValue("state")
	p, u, ok, err := h.pendingSecondFactor(c, state)
	if err != nil {
		return err
	}
	if !ok {
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	m, ok, err := h.mfaPage(c, u, p, state, c.FormValue("need"))
	if err != nil {
		return err
	}
	if !ok {
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	now := h.Now()
	code := c.FormValue("code")
	check := func() (bool, error) { return checkSecondFactor(ctx, h.Store, h.Sealer, u.ID, code, now) }
	switch {
	case m.NoTOTP:
		check = func() (bool, error) { return checkRecoveryCode(ctx, h.Store, u.ID, code) }
	case m.Enroll:
		check = totpStepCheck(ctx, h.Store, u.ID, m.Secret, code, now)
	}
	res, err := factorAttempt(ctx, h.Store, h.Sleep, u.ID, now, check)
	if err != nil {
		return err
	}
	if !res.OK {
		h.Log.Info("second factor failed", "user", u.ID, "ip", c.RealIP(), "locked", !res.LockedUntil.IsZero())
		action := auditSignInFailed
		if !res.LockedUntil.IsZero() {
			action = auditSignInLockout
		}
		if err := auditSignIn(c, h.Store, h.Locator, u, action, []string{"otp"}); err != nil {
			return err
		}
		m.Error = "That code is not valid."
		if m.NoTOTP {
			m.Error = "That recovery code is not valid."
		}
		h.metrics().SignIn("otp", "failure")
		if !res.LockedUntil.IsZero() {
			h.metrics().Lockout("second_factor")
			m.Error = msgFactorLocked(res.LockedUntil)
			return h.renderMFA(c, http.StatusTooManyRequests, m)
		}
		return h.renderMFA(c, http.StatusUnauthorized, m)
	}
	var enrolled *enrolment
	if m.Enroll && !m.NoTOTP {
		enrolled = &enrolment{change: factorChange{Added: true, Where: "sign-in", IP: c.RealIP()}}
	}
	return h.secondFactorPassed(c, p, u, m, []string{"otp"}, enrolled, now)
}

// enrolment is a factor set up while signing in: its audit record, and
// what stores it (nil when checking the code already did), run in one
// transaction.
type enrolment struct {
	change factorChange
	save   func(tx *store.Store) error
}

// secondFactorPassed finishes a pending sign-in or step-up once its second
// factor (amr: second) passed; enrolled is the factor set up on the way,
// which earns fresh recovery codes (shown once).
func (h *Login) secondFactorPassed(c echo.Context, p store.PendingLogin, u store.User, m views.MFAChallenge, second []string, enrolled *enrolment, now time.Time) error {
	ctx := c.Request().Context()
	if took, err := h.Store.TakePendingLogin(ctx, p.ID); err != nil || !took {
		if err != nil {
			return err
		}
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	var codes []string
	if enrolled != nil {
		var hashes []string
		codes, hashes = newRecoveryCodes()
		err := h.Store.InTx(ctx, func(tx *store.Store) error {
			if enrolled.save != nil {
				if err := enrolled.save(tx); err != nil {
					return err
				}
			}
			if err := tx.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
				return err
			}
			return auditFactorChange(ctx, tx, store.Actor{UserID: u.ID, Label: u.Email}, u, enrolled.change)
		})
		if err != nil {
			return err
		}
		notifyFactorChange(h.Mailer, h.Log, u, enrolled.change, now)
		h.Log.Info("second factor enrolled at sign-in", "user", u.ID, "kind", enrolled.change.kind(), "ip", c.RealIP())
	}
	var err error
	if _, u, err = h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins, x.LockedUntil, x.LastLoginAt = 0, time.Time{}, now
		return nil
	}); err != nil {
		return err
	}
	var s store.Session
	if v := viewerFrom(c); v != nil && v.User.ID == u.ID && enrolled == nil {
		// Step-up inside a session that already exists.
		if err := h.Store.SetSessionMFA(ctx, v.Session.ID, now); err != nil {
			return err
		}
		if err := recordAuth(c, h.Store, v.Session.ID, now, second); err != nil {
			return err
		}
		if err := h.Sessions.Rotate(c); err != nil { // the stepped-up session gets a new token
			return err
		}
		s = v.Session
		s.MFAAt = now
	} else {
		// A fresh sign-in: the portal's policy decides again with the
		// second factor just done before any session exists.
		if ok, err := h.afterSecondFactor(c, u, p.ConnectionID, now, append(firstFactor(p.ConnectionID), second...)); !ok {
			return err
		}
		if s, err = h.startSession(c, u, now, p.ConnectionID, append(firstFactor(p.ConnectionID), second...)); err != nil {
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

// checkRecoveryCode accepts an unused recovery code once.
func checkRecoveryCode(ctx context.Context, st *store.Store, userID, code string) (bool, error) {
	if len(code) < 12 {
		return false, nil
	}
	return st.UseRecoveryCode(ctx, userID, pool.HashRecoveryCode(code))
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

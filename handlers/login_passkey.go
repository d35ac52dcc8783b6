package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

const (
	msgPasskeyFailed   = "That passkey could not be used. Try again, or sign in with your email."
	msgPasskeyOff      = "Passkeys are not available here."
	msgPasskeyStart    = "The passkey could not be started. Reload the page and try again."
	msgPasskeyNotTaken = "This sign-in step has expired. Start again."
)

// ceremonyAnswer is a begin endpoint's answer: options, or a fixed message.
type ceremonyAnswer struct {
	ceremony
	Error string `json:"error,omitempty"`
}

func ceremonyJSON(c echo.Context, status int, cer ceremony, msg string) error {
	return c.JSON(status, ceremonyAnswer{ceremony: cer, Error: msg})
}

// passkeyCheck verifies a passkey answer as one attempt on the user's
// second-factor counter (the one TOTP and recovery codes share). A
// signature counter that did not move forward is refused and audited.
func passkeyCheck(ctx context.Context, st *store.Store, rp *webauthn.WebAuthn, sleep sleeper, log *slog.Logger,
	u store.User, usernameless bool, sd webauthn.SessionData, body []byte, ip string, now time.Time) (assertion, factorResult, error) {
	var a assertion
	res, err := factorAttempt(ctx, st, sleep, u.ID, now, func() (bool, error) {
		var user *store.User
		if !usernameless {
			user = &u
		}
		var err error
		_, a, err = finishAssertion(ctx, st, rp, user, sd, body, now)
		switch {
		case errors.Is(err, errSignCount):
			log.Warn("passkey signature counter did not increase: refused", "user", u.ID, "passkey", a.Passkey.ID, "ip", ip)
			return false, st.Audit(ctx, store.Actor{UserID: u.ID, Label: u.Email}.Event(u.OrgID, "mfa.passkey_sign_count", "user", u.ID),
				nil, map[string]string{"passkey": a.Passkey.Name, "ip": ip})
		case errors.Is(err, errCeremony):
			log.Info("passkey refused", "user", u.ID, "ip", ip, "err", err)
			return false, nil
		}
		return err == nil, err
	})
	return a, res, err
}

// assertedUser finds the user whose passkey answered (usernameless sign-in).
func assertedUser(ctx context.Context, st *store.Store, body []byte) (store.User, bool, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return store.User{}, false, nil
	}
	pk, err := st.PasskeyByCredentialID(ctx, base64.RawURLEncoding.EncodeToString(parsed.RawID))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	u, err := st.UserByID(ctx, pk.UserID)
	return u, err == nil, err
}

// beginPasskeySignIn answers the options for a usernameless sign-in (also
// used for the email field's autofill), bound to this browser.
func (h *Login) beginPasskeySignIn(c echo.Context) error {
	if h.RP == nil {
		return ceremonyJSON(c, http.StatusNotFound, ceremony{}, msgPasskeyOff)
	}
	cer, err := beginAssertion(c.Request().Context(), h.Store, h.RP, nil, h.passkeyBinding(c), purposeSignIn, h.Now())
	if err != nil {
		return err
	}
	return ceremonyJSON(c, http.StatusOK, cer, "")
}

// passkeySignIn signs in with a passkey alone. The passkey names its user;
// user verification (PIN or biometric) was required, so it is two factors
// (amr hwk/swk + user). The portal's policy decides as after a second factor.
func (h *Login) passkeySignIn(c echo.Context) error {
	ctx := c.Request().Context()
	f := h.form(c)
	fail := func(status int, msg string) error {
		f.Error = msg
		return h.render(c, status, f)
	}
	if h.RP == nil {
		return fail(http.StatusNotFound, msgPasskeyOff)
	}
	now := h.Now()
	_, sd, err := takeCeremony(ctx, h.Store, c.FormValue("challenge"), h.passkeyBinding(c), purposeSignIn, now)
	if errors.Is(err, errCeremony) {
		return fail(http.StatusBadRequest, msgPasskeyNotTaken)
	}
	if err != nil {
		return err
	}
	body := []byte(c.FormValue("credential"))
	u, ok, err := assertedUser(ctx, h.Store, body)
	if err != nil {
		return err
	}
	if !ok {
		h.Log.Info("passkey sign-in with an unknown credential", "ip", c.RealIP())
		return fail(http.StatusUnauthorized, msgPasskeyFailed)
	}
	a, res, err := passkeyCheck(ctx, h.Store, h.RP, h.Sleep, h.Log, u, true, sd, body, c.RealIP(), now)
	if err != nil {
		return err
	}
	if !res.LockedUntil.IsZero() {
		h.metrics().SignIn("hwk", "locked")
		h.metrics().Lockout("second_factor")
		return fail(http.StatusTooManyRequests, msgFactorLocked(res.LockedUntil))
	}
	if !res.OK {
		h.metrics().SignIn("hwk", "failure")
		return fail(http.StatusUnauthorized, msgPasskeyFailed)
	}
	if u.Status != store.UserActive {
		return fail(http.StatusForbidden, "This account is disabled. Ask your organization's administrator.")
	}
	org, err := h.Store.Organization(ctx, u.OrgID)
	if err != nil {
		return err
	}
	if r := org.InactiveReason(now); r != "" && !u.PlatformAdmin {
		return fail(http.StatusForbidden, "You cannot sign in because "+r+".")
	}
	if ok, err := h.poolAllowed(ctx, org.ID); err != nil {
		return err
	} else if !ok && !u.PlatformAdmin {
		// The organization signs in through its identity provider, which
		// must stay able to end access: a passkey is then a second factor
		// and a step-up, not a way around it.
		f.Stage = views.StageEmail
		return fail(http.StatusForbidden, "Your organization signs in through its identity provider. Start with your email address.")
	}
	if ok, err := h.afterSecondFactor(c, u, "", now, a.AMR); !ok {
		return err
	}
	if _, u, err = h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins, x.LockedUntil, x.LastLoginAt = 0, time.Time{}, now
		return nil
	}); err != nil {
		return err
	}
	s, err := h.startSession(c, u, now, "", a.AMR)
	if err != nil {
		return err
	}
	h.Log.Info("signed in with a passkey", "user", u.ID, "org", u.OrgID, "passkey", a.Passkey.ID, "ip", c.RealIP())
	return h.afterSession(c, u, s, f.AuthRequest, f.Next)
}

// beginPasskeyFactor answers the options for the pending sign-in's second
// factor: an assertion of the person's passkeys, or, where the
// organization requires a factor they do not have yet, a registration.
func (h *Login) beginPasskeyFactor(c echo.Context) error {
	ctx := c.Request().Context()
	if h.RP == nil {
		return ceremonyJSON(c, http.StatusNotFound, ceremony{}, msgPasskeyOff)
	}
	state := c.FormValue("state")
	p, u, ok, err := h.pendingSecondFactor(c, state)
	if err != nil {
		return err
	}
	if !ok {
		return ceremonyJSON(c, http.StatusBadRequest, ceremony{}, msgPasskeyNotTaken)
	}
	m, ok, err := h.mfaPage(c, u, p, state, c.FormValue("need"))
	if err != nil {
		return err
	}
	var cer ceremony
	switch {
	case ok && m.HasPasskey:
		cer, err = beginAssertion(ctx, h.Store, h.RP, &u, p.ID, purposeSecondFactor, h.Now())
	case ok && m.PasskeyEnroll:
		cer, err = beginRegistration(ctx, h.Store, h.RP, u, p.ID, purposeRegisterPending, h.Now())
	default:
		return ceremonyJSON(c, http.StatusBadRequest, ceremony{}, msgPasskeyStart)
	}
	if err != nil {
		return err
	}
	return ceremonyJSON(c, http.StatusOK, cer, "")
}

// passkeyFactor finishes the pending sign-in's passkey: the second factor
// after a password or an identity provider (or an app's step-up), or the
// first passkey of someone whose organization requires one.
func (h *Login) passkeyFactor(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.FormValue("state")
	p, u, ok, err := h.pendingSecondFactor(c, state)
	if err != nil {
		return err
	}
	if !ok || h.RP == nil {
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
	body := []byte(c.FormValue("credential"))
	if m.HasPasskey {
		_, sd, err := takeCeremony(ctx, h.Store, c.FormValue("challenge"), p.ID, purposeSecondFactor, now)
		if errors.Is(err, errCeremony) {
			m.Error = msgPasskeyNotTaken
			return h.renderMFA(c, http.StatusBadRequest, m)
		}
		if err != nil {
			return err
		}
		a, res, err := passkeyCheck(ctx, h.Store, h.RP, h.Sleep, h.Log, u, false, sd, body, c.RealIP(), now)
		if err != nil {
			return err
		}
		if !res.OK {
			m.Error = msgPasskeyFailed
			status := http.StatusUnauthorized
			h.metrics().SignIn("hwk", "failure")
			if !res.LockedUntil.IsZero() {
				h.metrics().Lockout("second_factor")
				m.Error, status = msgFactorLocked(res.LockedUntil), http.StatusTooManyRequests
			}
			return h.renderMFA(c, status, m)
		}
		return h.secondFactorPassed(c, p, u, m, a.AMR, nil, now)
	}
	// Enrolment at sign-in: the first factor was proven seconds ago (the
	// pending sign-in is no older than pendingFor and bound to this browser).
	_, sd, err := takeCeremony(ctx, h.Store, c.FormValue("challenge"), p.ID, purposeRegisterPending, now)
	if errors.Is(err, errCeremony) {
		m.Error = msgPasskeyNotTaken
		return h.renderMFA(c, http.StatusBadRequest, m)
	}
	if err != nil {
		return err
	}
	pk, err := finishRegistration(ctx, h.Store, h.RP, u, sd, body, defaultPasskeyName(now), now)
	if errors.Is(err, errCeremony) {
		h.Log.Info("passkey registration refused", "user", u.ID, "err", err)
		m.Error = "The passkey could not be created. Try again."
		return h.renderMFA(c, http.StatusUnprocessableEntity, m)
	}
	if err != nil {
		return err
	}
	change := &enrolment{change: factorChange{Added: true, Where: "sign-in", IP: c.RealIP(), Passkey: pk.Name},
		save: func(tx *store.Store) error { return tx.AddPasskey(ctx, &pk) }}
	return h.secondFactorPassed(c, p, u, m, passkeyAMR(pk.BackupEligible, pk.UserVerified), change, now)
}

// defaultPasskeyName names a passkey nobody named.
func defaultPasskeyName(now time.Time) string {
	return "Passkey added " + now.UTC().Format("2006-01-02")
}

// passkeyCookie binds a usernameless passkey sign-in to the browser. It is
// its own cookie, not the pending sign-in's (browserCookie): the sign-in
// page asks for passkey options in the background, and that answer must
// not replace the cookie a password or identity-provider sign-in started
// at the same moment is bound to.
const passkeyCookie = "portico_passkey"

// passkeyBinding returns the hash of this browser's passkey cookie,
// setting the cookie first if there is none.
func (h *Login) passkeyBinding(c echo.Context) string {
	if ck, err := c.Cookie(passkeyCookie); err == nil && len(ck.Value) >= 32 {
		return hashToken(ck.Value)
	}
	v := newToken()
	c.SetCookie(&http.Cookie{Name: passkeyCookie, Value: v, Path: "/login/passkey", HttpOnly: true,
		Secure: h.Sessions.Cookies.Options.Secure, SameSite: http.SameSiteStrictMode, MaxAge: int(ceremonyFor.Seconds()) * 10})
	return hashToken(v)
}

package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

const (
	// pendingFor is how long a sign-in may stay with the upstream or at the
	// second factor.
	pendingFor = 10 * time.Minute
	// browserCookie ties pending sign-ins to the browser that started them.
	browserCookie = "portico_login"
	// freshMFA is how recent a second factor must be to answer a step-up
	// without asking again.
	freshMFA = 5 * time.Minute
)

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func pendingPurpose(id string) string { return "pending-login:" + id }

// browserBinding returns the hash of this browser's sign-in cookie,
// setting the cookie first if there is none.
func (h *Login) browserBinding(c echo.Context) string {
	if ck, err := c.Cookie(browserCookie); err == nil && len(ck.Value) >= 32 {
		return hashToken(ck.Value)
	}
	v := newToken()
	c.SetCookie(&http.Cookie{Name: browserCookie, Value: v, Path: "/login", HttpOnly: true,
		Secure: h.Sessions.Cookies.Options.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(pendingFor.Seconds()) * 3})
	return hashToken(v)
}

func (h *Login) sameBrowser(c echo.Context, want string) bool {
	ck, err := c.Cookie(browserCookie)
	if err != nil || want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashToken(ck.Value)), []byte(want)) == 1
}

// finish is reached once the first factor passed: the portal's sign-in
// policy decides (login_policy.go), then identity-pool users with TOTP, and
// anyone the policy challenges, are asked for a code; everyone else gets a
// session.
func (h *Login) finish(c echo.Context, u store.User, connectionID string, f views.LoginForm) error {
	out, err := h.signInDecision(c, u, connectionID, time.Time{}, false, firstFactor(connectionID))
	if err != nil {
		return err
	}
	challenged := out.Applied && out.Action == policyeditor.Challenge
	if out.Applied && out.Action == policyeditor.Deny {
		return h.signInRefused(c, out, false)
	}
	if challenged {
		// Nobody is asked for a code, or made to enrol, only to be refused.
		if denied, ok, err := h.deniedAfterStepUp(c, u, connectionID); err != nil || ok {
			if err != nil {
				return err
			}
			return h.signInRefused(c, denied, false)
		}
	}
	enrolled, err := h.hasSecondFactor(c, u.ID)
	if err != nil {
		return err
	}
	org, err := h.Store.Organization(c.Request().Context(), u.OrgID)
	if err != nil {
		return err
	}
	if org.RequirePasskey {
		// No password-only (or IdP-only) sign-in: a passkey follows, or is
		// created now if the person has none.
		return h.askSecondFactor(c, u, connectionID, f.AuthRequest, f.Next, nil)
	}
	if enrolled && (connectionID == "" || challenged) {
		return h.askSecondFactor(c, u, connectionID, f.AuthRequest, f.Next, stepUpWith(out))
	}
	if !enrolled {
		if org.RequireMFA {
			// The organization requires a second factor: it is set up now,
			// while the password (or the IdP's sign-in) is seconds old,
			// before any session exists.
			return h.askSecondFactor(c, u, connectionID, f.AuthRequest, f.Next, nil)
		}
		if challenged {
			return h.signInRefused(c, out, true)
		}
	}
	s, err := h.startSession(c, u, time.Time{}, connectionID, firstFactor(connectionID))
	if err != nil {
		return err
	}
	h.Log.Info("signed in", "user", u.ID, "org", u.OrgID, "connection", connectionID, "ip", c.RealIP())
	return h.afterSession(c, u, s, f.AuthRequest, f.Next)
}

// startSession starts u's session, records how it was authenticated
// (methods, the amr) and the sign-in as a fresh proof of the first factor
// (enrolling a second factor needs one within the minute).
func (h *Login) startSession(c echo.Context, u store.User, mfaAt time.Time, connectionID string, methods []string) (store.Session, error) {
	s, err := h.Sessions.Start(c, u, mfaAt, connectionID)
	if err != nil {
		return s, err
	}
	now := h.Now()
	if err := recordAuth(c, h.Store, s.ID, now, methods); err != nil {
		return s, err
	}
	if err := auditSignIn(c, h.Store, h.Locator, u, auditSignInOK, methods); err != nil {
		return s, err
	}
	h.metrics().SignIn(signInMethod(methods), "success")
	return s, h.Store.SetSessionReauth(c.Request().Context(), s.ID, now)
}

// signInMethod is the metric label of a sign-in: its last factor, from a
// fixed set so that nothing upstream can add label values.
func signInMethod(methods []string) string {
	if len(methods) == 0 {
		return "other"
	}
	switch m := methods[len(methods)-1]; m {
	case "pwd", "fed", "otp", "hwk", "swk", "mfa", "rec":
		return m
	}
	return "other"
}

// hasSecondFactor reports whether u has a confirmed TOTP app or a passkey.
func (h *Login) hasSecondFactor(c echo.Context, userID string) (bool, error) {
	if ok, err := h.hasTOTP(c, userID); err != nil || ok {
		return ok, err
	}
	n, err := h.Store.CountPasskeys(c.Request().Context(), userID)
	return n > 0, err
}

// stepUpWith is what a challenging outcome needs the step-up to use.
func stepUpWith(out policyeditor.Outcome) []string {
	if out.Applied && out.Action == policyeditor.Challenge {
		return out.StepUpMethods()
	}
	return nil
}

func (h *Login) hasTOTP(c echo.Context, userID string) (bool, error) {
	t, err := h.Store.UserTOTP(c.Request().Context(), userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && !t.ConfirmedAt.IsZero(), err
}

// askSecondFactor parks the sign-in as pending and sends the browser to the
// second-factor page; connectionID (empty for a password) is kept for the
// session started after it. methods, when only a passkey meets them, hide
// the code form.
func (h *Login) askSecondFactor(c echo.Context, u store.User, connectionID, authRequest, next string, methods []string) error {
	state := newToken()
	p := store.PendingLogin{ID: store.NewID(), StateHash: hashToken(state), BrowserHash: h.browserBinding(c),
		OrgID: u.OrgID, UserID: u.ID, ConnectionID: connectionID, AuthRequest: authRequest, Next: next, ExpiresAt: h.Now().Add(pendingFor)}
	if err := h.Store.CreatePendingLogin(c.Request().Context(), &p); err != nil {
		return err
	}
	to := "/login/mfa?state=" + state
	if passkeyOnly(methods) {
		to += "&need=" + needPasskey
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// afterSession sends a signed-in browser on: back to the app whose
// authorization request is pending, or to the portal page it came for.
func (h *Login) afterSession(c echo.Context, u store.User, s store.Session, authRequest, next string) error {
	if authRequest == "" || h.Completer == nil {
		return c.Redirect(http.StatusSeeOther, safeNext(next))
	}
	ctx := c.Request().Context()
	if required, err := passwordMustChange(c, h.Store, u); err != nil {
		return err
	} else if required {
		// A password someone else chose (first run, an admin's reset) is
		// replaced before it opens anything, an app included: the portal's
		// pages have the same gate (passwordChangeGate). The app's request
		// is dropped; the person opens the app again afterwards.
		return c.Redirect(http.StatusSeeOther, passwordPath)
	}
	in, err := completedSignIn(c, h.Store, u, s)
	if err != nil {
		return err
	}
	to, err := h.Completer.CompleteLogin(ctx, authRequest, in)
	if errors.Is(err, ErrStepUpRequired) && !s.MFAAt.IsZero() && h.Now().Sub(s.MFAAt) < freshMFA {
		// The second factor was just passed: that is the step-up (unless
		// the app needs a method it was not done with: then it asks again).
		in.SteppedUp = true
		to, err = h.Completer.CompleteLogin(ctx, authRequest, in)
	}
	switch {
	case errors.Is(err, ErrStepUpRequired):
		methods := stepUpMethods(err)
		n, perr := h.Store.CountPasskeys(ctx, u.ID)
		if perr != nil {
			return perr
		}
		if passkeyOnly(methods) && n == 0 {
			return &PageError{Status: http.StatusForbidden, Err: err, Message: msgNeedsPasskey}
		}
		enrolled, terr := h.hasTOTP(c, u.ID)
		if terr != nil {
			return terr
		}
		if !enrolled && n == 0 {
			return &PageError{Status: http.StatusForbidden, Err: err,
				Message: "This app needs two-step verification. Set it up under Two-step verification, then open the app again."}
		}
		return h.askSecondFactor(c, u, "", authRequest, next, methods)
	case errors.Is(err, ErrConsentRequired):
		return c.Redirect(http.StatusSeeOther, consentURL(authRequest))
	case errors.Is(err, ErrUnknownAuthRequest):
		return &PageError{Status: http.StatusBadRequest, Err: err,
			Message: "This sign-in request has expired or was already used. Go back to the app and try again."}
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// passwordMustChange reports whether u signs in with a password someone
// else chose and must replace it first (see passwordChangeRequired).
func passwordMustChange(c echo.Context, st *store.Store, u store.User) (bool, error) {
	if u.PasswordHash == "" {
		return false, nil
	}
	return passwordChangeRequired(c, st, u.ID)
}

// completedSignIn is what the authorization server is told about the
// signed-in person of session s in request c.
func completedSignIn(c echo.Context, st *store.Store, u store.User, s store.Session) (CompletedSignIn, error) {
	ip, _ := netip.ParseAddr(c.RealIP())
	in := CompletedSignIn{UserID: u.ID, AuthTime: s.CreatedAt, MFAAt: s.MFAAt, ConnectionID: s.ConnectionID, IP: ip.Unmap(), User: &u}
	auth, err := loadSessionAuth(c.Request().Context(), st, s)
	if err != nil {
		return in, err
	}
	in.AMR, in.AuthMethods = sessionAMR(auth, s), sessionMethods(auth, s)
	return in, nil
}

// signedInAtAuthorize is authserver's SignedIn for the browser of c, so
// /authorize completes a request for a person already signed in without
// the login page's hop. It answers with what afterSession would tell the
// authorization server, and with nobody when afterSession would not get
// that far (no session or an ended one, a password to change first); the
// login page then takes over as before.
func signedInAtAuthorize(c echo.Context, sess *Sessions, st *store.Store) authserver.SignedIn {
	return func(ctx context.Context) (authserver.LoginUser, bool) {
		v, err := sess.load(c)
		if err != nil || v == nil {
			return authserver.LoginUser{}, false
		}
		attachViewer(c, v)
		if required, err := passwordMustChange(c, st, v.User); err != nil || required {
			return authserver.LoginUser{}, false
		}
		in, err := completedSignIn(c, st, v.User, v.Session)
		if err != nil {
			return authserver.LoginUser{}, false
		}
		return authserver.LoginUser{UserID: in.UserID, AuthTime: in.AuthTime, MFAAt: in.MFAAt, AMR: in.AMR,
			AuthMethods: in.AuthMethods, ConnectionID: in.ConnectionID, IP: in.IP, User: in.User}, true
	}
}

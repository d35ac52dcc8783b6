package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/store"
	"portico/views"
)

// MFA lets a signed-in user enroll an authenticator app (TOTP) and get
// recovery codes, or turn it off.
type MFA struct {
	Store  *store.Store
	Pages  *Pages
	Sealer *store.Sealer
	Now    func() time.Time
	Log    *slog.Logger
	// Sleep waits by the delay schedule after a wrong code; nil is a real
	// wait. Mailer, when set, tells people about enrolments and removals.
	Sleep  func(ctx context.Context, d time.Duration)
	Mailer SecurityMailer
	// Sessions rotates the session token once a factor is enrolled.
	Sessions *Sessions
}

// Mount registers the routes.
func (h *MFA) Mount(g *echo.Group) {
	h.Pages.AddNav("Two-step verification", "/account/mfa", anyone)
	a := g.Group("/account/mfa", requireUser)
	a.GET("", h.show)
	a.POST("/confirm", h.confirm)
	a.POST("/disable", h.disable)
	a.POST("/recovery", h.regenerate)
}

func (h *MFA) page(c echo.Context, status int, m views.MFAProps) error {
	return render(c, status, views.MFASettings(h.Pages.Page(c, "Two-step verification"), m))
}

// props fills the page: the enrollment state, and for a user not enrolled
// the pending secret (made on first view, kept until confirmed).
func (h *MFA) props(c echo.Context) (views.MFAProps, error) {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	e, enrolled, err := totpEnrollment(ctx, h.Store, h.Sealer, v.User)
	if err != nil {
		return views.MFAProps{}, err
	}
	if !enrolled {
		r, err := reauthProps(c, h.Store, v, "/account/mfa", h.Now())
		return views.MFAProps{QRDataURL: e.QRDataURL, Secret: e.Secret, Reauth: r}, err
	}
	n, err := h.Store.UnusedRecoveryCodes(ctx, v.User.ID)
	if err != nil {
		return views.MFAProps{}, err
	}
	r, err := reauthProps(c, h.Store, v, "/account/mfa", h.Now())
	return views.MFAProps{Enrolled: true, Remaining: n, Reauth: r}, err
}

// regenerate replaces the recovery codes with a new set shown once. It
// needs the first factor again (as enrolling does): a session alone must
// not be able to read out fresh codes that pass every step-up.
func (h *MFA) regenerate(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	m, err := h.props(c)
	if err != nil {
		return err
	}
	if !m.Enrolled {
		return c.Redirect(http.StatusSeeOther, "/account/mfa")
	}
	now := h.Now()
	if fail, err := checkReauth(c, h.Store, h.sleep(), v, now); err != nil {
		return err
	} else if fail != nil {
		if m, err = h.props(c); err != nil {
			return err
		}
		m.Error = fail.Message
		return h.page(c, fail.Status, m)
	}
	codes, hashes := newRecoveryCodes()
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.ReplaceRecoveryCodes(ctx, v.User.ID, hashes); err != nil {
			return err
		}
		return tx.Audit(ctx, actorOf(v).Event(v.User.OrgID, "mfa.recovery_regenerate", "user", v.User.ID), nil,
			map[string]any{"ip": c.RealIP(), "codes": len(codes)})
	})
	if err != nil {
		return err
	}
	h.Log.Info("recovery codes regenerated", "user", v.User.ID, "ip", c.RealIP())
	c.Response().Header().Set("Cache-Control", "no-store") // the codes are in this page only
	m.RecoveryCodes, m.Remaining, m.Reauth.Fresh = codes, len(codes), true
	return h.page(c, http.StatusOK, m)
}

// totpEnrollment reports whether u has a confirmed TOTP authenticator and,
// when not, returns the pending enrollment, making and storing its secret
// on first call so the QR code stays the same until it is confirmed.
func totpEnrollment(ctx context.Context, st *store.Store, sealer *store.Sealer, u store.User) (pool.Enrollment, bool, error) {
	t, err := st.UserTOTP(ctx, u.ID)
	if err == nil && !t.ConfirmedAt.IsZero() {
		return pool.Enrollment{}, true, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return pool.Enrollment{}, false, err
	}
	if err == nil {
		secret, err := sealer.Open(t.Secret, totpPurpose(u.ID))
		if err != nil {
			return pool.Enrollment{}, false, err
		}
		e, err := pool.EnrollmentFor("Portico", u.Email, string(secret))
		return e, false, err
	}
	e, err := pool.NewEnrollment("Portico", u.Email)
	if err != nil {
		return e, false, err
	}
	return e, false, st.PutTOTP(ctx, u.ID, sealer.Seal([]byte(e.Secret), totpPurpose(u.ID)))
}

func (h *MFA) show(c echo.Context) error {
	m, err := h.props(c)
	if err != nil {
		return err
	}
	return h.page(c, http.StatusOK, m)
}

// confirm turns TOTP on once the user shows a code from the app, and
// hands out recovery codes once.
func (h *MFA) confirm(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	m, err := h.props(c)
	if err != nil {
		return err
	}
	if m.Enrolled {
		return c.Redirect(http.StatusSeeOther, "/account/mfa")
	}
	now := h.Now()
	if fail, err := checkReauth(c, h.Store, h.sleep(), v, now); err != nil {
		return err
	} else if fail != nil {
		m.Error = fail.Message
		return h.page(c, fail.Status, m)
	}
	res, err := factorAttempt(ctx, h.Store, h.sleep(), v.User.ID, now, totpStepCheck(ctx, h.Store, v.User.ID, m.Secret, c.FormValue("code"), now))
	if err != nil {
		return err
	}
	if !res.OK {
		if m, err = h.props(c); err != nil { // the password may now count as fresh
			return err
		}
		status := http.StatusUnprocessableEntity
		m.Error = "That code is not valid. Check the time on your phone and try the next code."
		if !res.LockedUntil.IsZero() {
			m.Error, status = msgFactorLocked(res.LockedUntil), http.StatusTooManyRequests
		}
		return h.page(c, status, m)
	}
	codes, hashes := newRecoveryCodes()
	change := factorChange{Added: true, Where: "account", IP: c.RealIP()}
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.ReplaceRecoveryCodes(ctx, v.User.ID, hashes); err != nil {
			return err
		}
		if err := tx.SetSessionMFA(ctx, v.Session.ID, now); err != nil {
			return err
		}
		return auditFactorChange(ctx, tx, actorOf(v), v.User, change)
	})
	if err != nil {
		return err
	}
	notifyFactorChange(h.Mailer, h.Log, v.User, change, now)
	if err := h.Sessions.Rotate(c); err != nil { // the session now counts as stepped up
		return err
	}
	h.Log.Info("TOTP enrolled", "user", v.User.ID, "ip", c.RealIP())
	return h.page(c, http.StatusOK, views.MFAProps{Enrolled: true, Remaining: len(codes), RecoveryCodes: codes})
}

// newRecoveryCodes returns a fresh set of recovery codes to show once and
// their hashes to store.
func newRecoveryCodes() (codes, hashes []string) {
	codes = pool.NewRecoveryCodes(pool.RecoveryCodeCount)
	hashes = make([]string, len(codes))
	for i, rc := range codes {
		hashes[i] = pool.HashRecoveryCode(rc)
	}
	return codes, hashes
}

// disable turns TOTP off; it takes a current code, so a session left open
// on someone's desk cannot quietly remove the second factor.
func (h *MFA) disable(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	t, err := h.Store.UserTOTP(ctx, v.User.ID)
	if err != nil {
		return err
	}
	n, err := h.Store.CountPasskeys(ctx, v.User.ID)
	if err != nil {
		return err
	}
	if v.Org.RequireMFA && n == 0 {
		// The last factor of someone whose organization requires one stays.
		m, err := h.props(c)
		if err != nil {
			return err
		}
		m.Error = "Your organization requires two-step verification: add a passkey before turning off the authenticator app."
		return h.page(c, http.StatusConflict, m)
	}
	secret, err := h.Sealer.Open(t.Secret, totpPurpose(v.User.ID))
	if err != nil {
		return err
	}
	now := h.Now()
	res, err := factorAttempt(ctx, h.Store, h.sleep(), v.User.ID, now, func() (bool, error) {
		step, ok := pool.CheckTOTP(string(secret), c.FormValue("code"), now)
		if !ok {
			return false, nil
		}
		return h.Store.AcceptTOTPStep(ctx, v.User.ID, step, false)
	})
	if err != nil {
		return err
	}
	if !res.OK {
		m, err := h.props(c)
		if err != nil {
			return err
		}
		status := http.StatusUnprocessableEntity
		m.Error = "That code is not valid."
		if !res.LockedUntil.IsZero() {
			m.Error, status = msgFactorLocked(res.LockedUntil), http.StatusTooManyRequests
		}
		return h.page(c, status, m)
	}
	change := factorChange{Where: "account", IP: c.RealIP()}
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteTOTP(ctx, v.User.ID); err != nil {
			return err
		}
		return auditFactorChange(ctx, tx, actorOf(v), v.User, change)
	})
	if err != nil {
		return err
	}
	notifyFactorChange(h.Mailer, h.Log, v.User, change, now)
	h.Log.Info("TOTP removed", "user", v.User.ID, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, "/account/mfa")
}

func (h *MFA) sleep() sleeper {
	if h.Sleep == nil {
		return sleepCtx
	}
	return h.Sleep
}

package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

const passwordPath = "/account/password"

func (h *Account) renderPassword(c echo.Context, status int, f views.PasswordForm) error {
	v := viewerFrom(c)
	f.HasPassword = v.User.PasswordHash != ""
	if !f.Required {
		var err error
		if f.Required, err = h.Store.PasswordChangeRequired(c.Request().Context(), v.User.ID); err != nil {
			return err
		}
	}
	return render(c, status, views.AccountPassword(h.Pages.Page(c, "Change your password"), f))
}

func (h *Account) showPassword(c echo.Context) error {
	return h.renderPassword(c, http.StatusOK, views.PasswordForm{})
}

// changePassword sets a new password after checking the current one under
// the sign-in throttles, then ends the user's other sessions: whoever else
// knew the old password is signed out.
func (h *Account) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	if v.User.PasswordHash == "" {
		return &PageError{Status: http.StatusConflict,
			Message: "You sign in through your organization's identity provider: change your password there."}
	}
	current, pw := c.FormValue("current"), c.FormValue("password")
	errs := views.FieldErrors{}
	if current == "" {
		errs["current"] = "Enter your current password."
	}
	if msg := pool.CheckPasswordStrength(pw); msg != "" {
		errs["password"] = msg
	} else if pw != c.FormValue("confirm") {
		errs["confirm"] = "The two passwords differ."
	} else if pw == current {
		errs["password"] = "Choose a password different from the current one."
	}
	if len(errs) > 0 {
		return h.renderPassword(c, http.StatusUnprocessableEntity, views.PasswordForm{Errors: errs})
	}
	now := h.Now()
	ip, _ := clientAddress(c, nil)
	res, err := passwordAttempt(ctx, h.Store, h.sleep(), v.User.Email, policyeditor.LocationOf(ip), now, func() (bool, error) {
		return pool.CheckPassword(v.User.PasswordHash, current) == nil, nil
	})
	if err != nil {
		return err
	}
	if !res.OK {
		status, msg := http.StatusUnprocessableEntity, "The current password is incorrect."
		if !res.LockedUntil.IsZero() {
			status, msg = http.StatusTooManyRequests, msgSignInLocked(res.LockedUntil)
		}
		return h.renderPassword(c, status, views.PasswordForm{Errors: views.FieldErrors{"current": msg}})
	}
	hash, err := pool.HashPassword(pw)
	if err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if _, _, err := tx.UpdateUser(ctx, v.User.OrgID, v.User.ID, func(u *store.User) error {
			u.PasswordHash, u.FailedLogins, u.LockedUntil = hash, 0, time.Time{}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.PasswordChanged(ctx, v.User.ID); err != nil {
			return err
		}
		if err := tx.DeleteOtherSessions(ctx, v.User.ID, v.Session.ID); err != nil {
			return err
		}
		if err := tx.RevokeAllUserRefreshFamilies(ctx, v.User.ID, "password changed", now); err != nil {
			return err
		}
		return tx.Audit(ctx, actorOf(v).Event(v.User.OrgID, "user.password_change", "user", v.User.ID), nil,
			map[string]any{"ip": c.RealIP(), "other_sessions_ended": true})
	})
	if err != nil {
		return err
	}
	if h.Sessions != nil {
		if err := h.Sessions.Rotate(c); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/account?changed=password")
}

func (h *Account) sleep() sleeper {
	if h.Sleep == nil {
		return sleepCtx
	}
	return h.Sleep
}

// passwordChangeRequired reports whether userID must choose a new password:
// from the request viewer's cached principal when it is that user's, while
// the store's data version has not moved (requiring or clearing a change
// moves it), else from the store.
func passwordChangeRequired(c echo.Context, st *store.Store, userID string) (bool, error) {
	ctx := c.Request().Context()
	if v := viewerFrom(c); v != nil && v.principal != nil && v.principal.user.ID == userID && v.principal.current(ctx, st) {
		return v.principal.pwChange, nil
	}
	return st.PasswordChangeRequired(ctx, userID)
}

// passwordChangeGate sends a signed-in person who must choose a new
// password (the first-run administrator) to the form before anything else.
// Only that form, signing out and static files stay reachable.
func passwordChangeGate(st *store.Store) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v := viewerFrom(c)
			if v == nil || v.User.PasswordHash == "" {
				return next(c)
			}
			switch p := c.Request().URL.Path; {
			case p == passwordPath, p == "/logout", strings.HasPrefix(p, "/static/"), p == "/healthz":
				return next(c)
			}
			required, err := passwordChangeRequired(c, st, v.User.ID)
			if err != nil {
				return err
			}
			if !required {
				return next(c)
			}
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, passwordPath)
			}
			return &PageError{Status: http.StatusForbidden, Err: errors.New("password change required"),
				Message: "Choose a new password first, under Account → Change your password."}
		}
	}
}

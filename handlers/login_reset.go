package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/store"
	"portico/views"
)

const msgResetGone = "This password reset link has expired or was already used. Ask for a new one with \"Forgot your password?\" on the sign-in page, or ask your administrator."

func (h *Login) renderReset(c echo.Context, status int, r views.ResetForm) error {
	p := h.Pages.Page(c, "Choose a new password")
	p.Narrow = true
	return render(c, status, views.LoginReset(p, r))
}

func (h *Login) showReset(c echo.Context) error {
	token := c.QueryParam("token")
	if _, err := h.Store.PasswordResetByToken(c.Request().Context(), pool.HashResetToken(token), h.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return &PageError{Status: http.StatusBadRequest, Message: msgResetGone}
		}
		return err
	}
	return h.renderReset(c, http.StatusOK, views.ResetForm{Token: token})
}

// submitReset sets a new password from an admin-issued link, unlocks the
// account and ends its sessions.
func (h *Login) submitReset(c echo.Context) error {
	ctx := c.Request().Context()
	token, pw := c.FormValue("token"), c.FormValue("password")
	r, err := h.Store.PasswordResetByToken(ctx, pool.HashResetToken(token), h.Now())
	if errors.Is(err, store.ErrNotFound) {
		return &PageError{Status: http.StatusBadRequest, Message: msgResetGone}
	}
	if err != nil {
		return err
	}
	errs := views.FieldErrors{}
	if msg := pool.CheckPasswordStrength(pw); msg != "" {
		errs["password"] = msg
	} else if pw != c.FormValue("confirm") {
		errs["confirm"] = "The two passwords differ."
	}
	if len(errs) > 0 {
		return h.renderReset(c, http.StatusUnprocessableEntity, views.ResetForm{Token: token, Errors: errs})
	}
	hash, err := pool.HashPassword(pw)
	if err != nil {
		return err
	}
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		used, err := tx.UsePasswordReset(ctx, r.TokenHash)
		if err != nil {
			return err
		}
		if !used {
			return store.ErrConflict
		}
		_, u, err := tx.UpdateUser(ctx, r.OrgID, r.UserID, func(u *store.User) error {
			u.PasswordHash, u.FailedLogins, u.LockedUntil = hash, 0, time.Time{}
			return nil
		})
		if err != nil {
			return err
		}
		// A new password lifts the sign-in pauses on this account from
		// every network.
		if err := tx.ClearThrottlePrefix(ctx, accountKeyPrefix(u.Email)); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, r.UserID); err != nil {
			return err
		}
		if err := tx.PasswordChanged(ctx, r.UserID); err != nil {
			return err
		}
		// An admin's link also recovers someone who lost their passkeys:
		// they are removed, and a new one is made at the next sign-in where
		// the organization requires it, or on the account page. A link the
		// person asked for by mail changes only the password: a mailbox
		// alone must not take away their second factors.
		n, err := tx.CountPasskeys(ctx, r.UserID)
		if err != nil {
			return err
		}
		if n > 0 && r.CreatedBy != selfResetCreator {
			if err := tx.DeleteUserPasskeys(ctx, r.UserID); err != nil {
				return err
			}
			if err := auditFactorChange(ctx, tx, store.Actor{UserID: r.UserID, Label: "reset-link"}, u,
				factorChange{Where: "reset-link", IP: c.RealIP(), Passkey: "all passkeys"}); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, store.Actor{UserID: r.UserID, Label: "reset-link"}.Event(r.OrgID, "user.password_reset", "user", r.UserID), nil, nil)
	})
	if errors.Is(err, store.ErrConflict) {
		return &PageError{Status: http.StatusBadRequest, Message: msgResetGone}
	}
	if err != nil {
		return err
	}
	h.Log.Info("password reset", "user", r.UserID, "ip", c.RealIP())
	return h.render(c, http.StatusOK, views.LoginForm{Notice: "Your password was changed. Sign in with it now."})
}

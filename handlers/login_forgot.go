package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/partners"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// A reset link someone asks for themselves is short-lived: it travels by
// email, and its owner is at the screen waiting for it.
const selfResetTTL = 30 * time.Minute

// forgotMinDuration is how long every answer to a reset request takes at
// least, whether or not the address has an account, so the time taken does
// not tell (a known address writes rows; the mail is sent after answering).
const forgotMinDuration = 250 * time.Millisecond

// Reset requests are counted per (address, network) and per network, on
// every request, not only on failures: each one may send a mail.
var (
	forgotPairLimit = attemptLimit{Max: 3, Lock: 30 * time.Minute, MaxLock: 4 * time.Hour, Window: time.Hour}
	forgotNetLimit  = attemptLimit{Max: 20, Lock: 30 * time.Minute, MaxLock: 4 * time.Hour, Window: time.Hour}
)

func forgotPairKey(email, network string) string {
	sum := sha256.Sum256([]byte(email))
	return "forgot:" + hex.EncodeToString(sum[:16]) + "|" + network
}

const msgForgotSent = "If that address has a Portico password, a link to choose a new one is on its way. " +
	"It works once, for 30 minutes. Nothing arrived? Check the address, or ask your organization's administrator."

const msgForgotNoMail = "This portal does not send email. Ask your organization's administrator for a password reset link."

func (h *Login) renderForgot(c echo.Context, status int, f views.ForgotForm) error {
	p := h.Pages.Page(c, "Forgot your password")
	p.Narrow = true
	f.MailOn = h.Mailer != nil
	return render(c, status, views.LoginForgot(p, f))
}

func (h *Login) showForgot(c echo.Context) error {
	return h.renderForgot(c, http.StatusOK, views.ForgotForm{Email: strings.TrimSpace(c.QueryParam("email"))})
}

// submitForgot answers every well-formed request with the same words in at
// least the same time; only an active identity-pool account whose
// organization still signs in with Portico passwords gets a link.
func (h *Login) submitForgot(c echo.Context) error {
	start := time.Now()
	ctx := c.Request().Context()
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	f := views.ForgotForm{Email: email}
	if h.Mailer == nil {
		f.Error = msgForgotNoMail
		return h.renderForgot(c, http.StatusServiceUnavailable, f)
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		f.Error = "Enter the email address you sign in with."
		return h.renderForgot(c, http.StatusUnprocessableEntity, f)
	}
	now := h.Now()
	ip, _ := clientAddress(c, nil)
	network := networkName(policyeditor.LocationOf(ip))
	for _, k := range []struct {
		key string
		lim attemptLimit
	}{{"forgot-net:" + network, forgotNetLimit}, {forgotPairKey(email, network), forgotPairLimit}} {
		t, locked, err := reserve(ctx, h.Store, k.key, k.lim, now)
		if err != nil {
			return err
		}
		if locked {
			h.Log.Info("password reset request throttled", "ip", c.RealIP())
			f.Error = fmt.Sprintf("Too many reset requests from this network. Try again after %s UTC.",
				t.LockedUntil.UTC().Format("15:04"))
			return h.renderForgot(c, http.StatusTooManyRequests, f)
		}
	}
	link, err := h.selfResetLink(ctx, email, c.RealIP(), now)
	if err != nil {
		return err
	}
	if link != nil {
		h.sendResetMail(*link)
	}
	if wait := forgotMinDuration - time.Since(start); wait > 0 {
		h.Sleep(ctx, wait)
	}
	f.Sent, f.Email = true, ""
	return h.renderForgot(c, http.StatusOK, f)
}

// selfResetLink stores a link for email's account when it may have one:
// when its password still signs in (passwordAllowed); nil when it may not
// (no such account, disabled, federated only or linked to a connection).
func (h *Login) selfResetLink(ctx context.Context, email, ip string, now time.Time) (*pool.ResetLink, error) {
	u, err := h.findPoolUser(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Status != store.UserActive {
		return nil, nil
	}
	if ok, err := h.passwordAllowed(ctx, u.OrgID, u); err != nil || !ok {
		return nil, err
	}
	token, hash := pool.NewResetToken()
	r := store.PasswordReset{TokenHash: hash, UserID: u.ID, OrgID: u.OrgID, CreatedBy: selfResetCreator,
		ExpiresAt: now.Add(selfResetTTL)}
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePasswordReset(ctx, &r); err != nil {
			return err
		}
		return tx.Audit(ctx, store.Actor{UserID: u.ID, Label: u.Email}.Event(u.OrgID, "user.reset_requested", "user", u.ID),
			nil, map[string]any{"ip": ip, "expires_at": r.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	return &pool.ResetLink{Token: token, UserID: u.ID, Email: u.Email, ExpiresAt: r.ExpiresAt}, nil
}

// selfResetCreator marks links people asked for themselves: using one
// changes only the password (an admin's link also clears passkeys, for
// someone who lost them; a mailbox alone must not be able to do that).
const selfResetCreator = "self"

// sendResetMail sends the link after the answer, so a slow mail server
// neither delays nor reveals anything.
func (h *Login) sendResetMail(l pool.ResetLink) {
	n := partners.SecurityNotice{To: l.Email, Subject: "Reset your Portico password",
		Text: "Someone, hopefully you, asked to reset the Portico password of " + l.Email + ".\n\n" +
			"Open this link to choose a new one:\n" + l.URL(h.BaseURL) + "\n\n" +
			"It works once and expires at " + l.ExpiresAt.UTC().Format("2006-01-02 15:04") + " UTC.\n" +
			"If you did not ask, ignore this mail: your password stays as it is.\n"}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.Mailer.SendSecurityNotice(ctx, n); err != nil {
			h.Log.Error("sending the password reset mail failed", "user", l.UserID, "err", err)
		}
	}()
}

package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/partners"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// reauthWindow is how recently the first factor must have been proven to
// enrol a second factor: someone holding only a session (a borrowed
// laptop, a stolen cookie) must not be able to add their own authenticator
// and then pass every step-up with it.
const reauthWindow = time.Minute

// recentReauth reports whether the session's user proved their first
// factor (signed in, or typed their password again) within reauthWindow.
func recentReauth(ctx context.Context, st *store.Store, sessionID string, now time.Time) (bool, error) {
	at, err := st.SessionReauth(ctx, sessionID)
	if err != nil || at.IsZero() {
		return false, err
	}
	return now.Sub(at) <= reauthWindow && !at.After(now.Add(reauthWindow)), nil
}

// reauthProps is what an enrolment form must ask of the viewer: their
// password, or (federated users) a fresh sign-in with their identity
// provider, unless they proved their first factor within the minute.
func reauthProps(c echo.Context, st *store.Store, v *Viewer, next string, now time.Time) (views.Reauth, error) {
	fresh, err := recentReauth(c.Request().Context(), st, v.Session.ID, now)
	r := views.Reauth{Fresh: fresh, Next: next}
	switch {
	case v.User.PasswordHash != "":
		r.Password = true
	case v.Session.ConnectionID != "":
		r.Connection, r.Email = v.Session.ConnectionID, v.User.Email
	}
	return r, err
}

// reauthFailure says why an enrolment was refused before its code was
// looked at.
type reauthFailure struct {
	Status  int
	Message string
}

// checkReauth is an enrolment form's proof of the first factor: a sign-in
// or password within the minute, or the password typed on this form,
// checked under the same throttles as sign-in. A nil failure means proven.
func checkReauth(c echo.Context, st *store.Store, sleep sleeper, v *Viewer, now time.Time) (*reauthFailure, error) {
	ctx := c.Request().Context()
	if ok, err := recentReauth(ctx, st, v.Session.ID, now); err != nil || ok {
		return nil, err
	}
	if v.User.PasswordHash == "" {
		return &reauthFailure{http.StatusForbidden,
			"To set up two-step verification, sign in again with your identity provider, then enter the code within a minute."}, nil
	}
	password := c.FormValue("password")
	if password == "" {
		return &reauthFailure{http.StatusUnprocessableEntity, "Enter your password to set up two-step verification."}, nil
	}
	ip, _ := clientAddress(c, nil)
	res, err := passwordAttempt(ctx, st, sleep, v.User.Email, policyeditor.LocationOf(ip), now, func() (bool, error) {
		return pool.CheckPassword(v.User.PasswordHash, password) == nil, nil
	})
	switch {
	case err != nil:
		return nil, err
	case !res.LockedUntil.IsZero():
		return &reauthFailure{http.StatusTooManyRequests, msgSignInLocked(res.LockedUntil)}, nil
	case !res.OK:
		return &reauthFailure{http.StatusUnprocessableEntity, "The password is incorrect."}, nil
	}
	return nil, st.SetSessionReauth(ctx, v.Session.ID, now)
}

// SecurityMailer is the optional ability of Config.Mailer to tell people
// about changes to how they sign in (partners.SMTPMailer has it).
type SecurityMailer interface {
	SendSecurityNotice(ctx context.Context, n partners.SecurityNotice) error
}

// factorChange is a second factor added to or removed from an account.
type factorChange struct {
	Added bool
	Where string // "account", "step-up", "sign-in", "reset-link"
	IP    string
	// Passkey is the passkey's name when the factor is a passkey; empty
	// for the authenticator app (TOTP).
	Passkey string
}

func (f factorChange) kind() string {
	if f.Passkey != "" {
		return "passkey"
	}
	return "totp"
}

func (f factorChange) action() string {
	if f.Added {
		return "mfa." + f.kind() + "_enroll"
	}
	return "mfa." + f.kind() + "_remove"
}

// auditFactorChange records the change in tx, so it commits with it.
func auditFactorChange(ctx context.Context, tx *store.Store, actor store.Actor, u store.User, f factorChange) error {
	details := map[string]string{"where": f.Where, "ip": f.IP}
	if f.Passkey != "" {
		details["passkey"] = f.Passkey
	}
	return tx.Audit(ctx, actor.Event(u.OrgID, f.action(), "user", u.ID), nil, details)
}

// notifyFactorChange mails u about the change when a mailer that can is
// configured. It does not wait for the mail server: the change is done and
// audited either way; a failure goes to the log.
func notifyFactorChange(m SecurityMailer, log *slog.Logger, u store.User, f factorChange, at time.Time) {
	if m == nil || u.Email == "" {
		return
	}
	subject, what := "Two-step verification was turned off for your account", "turned off"
	switch {
	case f.Added && f.Passkey != "":
		subject, what = "A passkey was added to your account", "changed: a new passkey (\""+f.Passkey+"\") was added"
	case f.Added:
		subject, what = "An authenticator app was added to your account", "set up with a new authenticator app"
	case f.Passkey != "":
		subject, what = "A passkey was removed from your account", "changed: the passkey \""+f.Passkey+"\" was removed"
	}
	text := "Hello " + u.Name + ",\n\nTwo-step verification for your Portico account (" + u.Email + ") was " + what +
		" on " + at.UTC().Format("2006-01-02 at 15:04 UTC") + " from " + f.IP + ".\n\n" +
		"If this was you, there is nothing to do. If it was not, sign in, check Two-step verification under your account, " +
		"and tell your organization's administrator at once.\n"
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.SendSecurityNotice(ctx, partners.SecurityNotice{To: u.Email, Subject: subject, Text: text}); err != nil {
			log.Error("mailing a second-factor notice failed", "user", u.ID, "err", err)
		}
	}()
}

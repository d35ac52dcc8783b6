package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation"
	"portico/federation/pool"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// password is the password step: the sandbox IdP when the form names its
// connection, else the identity pool.
func (h *Login) password(c echo.Context, f views.LoginForm, password string) error {
	f.Stage = views.StagePassword
	if f.Email == "" || password == "" {
		f.Error = "Enter your email and password."
		return h.render(c, http.StatusUnprocessableEntity, f)
	}
	if f.Connection != "" {
		x, ok, err := h.chosenConnection(c.Request().Context(), f.Connection, f.Email)
		if err != nil {
			return err
		}
		if !ok {
			f.Error = msgOptionGone
			return h.render(c, http.StatusNotFound, f)
		}
		f.ConnectionName = x.Name
		conn, err := h.Connectors.Open(c.Request().Context(), x)
		if err != nil {
			h.Log.Error("opening connection failed", "connection", x.ID, "err", err)
			f.Error = msgOptionBroken
			return h.render(c, http.StatusBadGateway, f)
		}
		if pc, ok := conn.(federation.PasswordConnector); ok {
			return h.upstreamPassword(c, f, x, pc, password)
		}
		f.Connection, f.ConnectionName = "", ""
	}
	return h.poolPassword(c, f, password)
}

// upstreamPassword signs in through a connector that checks passwords
// itself (the sandbox IdP), with the same throttles as the pool.
func (h *Login) upstreamPassword(c echo.Context, f views.LoginForm, x store.Connection, pc federation.PasswordConnector, password string) error {
	ctx := c.Request().Context()
	var id federation.Identity
	res, err := h.passwordAttempt(c, f.Email, func() (bool, error) {
		var ok bool
		var err error
		id, ok, err = pc.Login(ctx, f.Email, password)
		return ok, err
	})
	if err != nil {
		return err
	}
	if !res.OK {
		return h.failed(c, f, res)
	}
	u, err := h.Provisioner.Provision(ctx, x, id)
	if err != nil {
		return h.signInError(c, f, x, err)
	}
	return h.finish(c, u, x.ID, f)
}

// poolPassword checks an identity-pool password under the sign-in
// throttles. An email without an account goes through the same steps, the
// same throttle keys and a hash check of the same cost, so answers and
// delays do not tell whether the account exists.
func (h *Login) poolPassword(c echo.Context, f views.LoginForm, password string) error {
	ctx := c.Request().Context()
	var u store.User
	res, err := h.passwordAttempt(c, f.Email, func() (bool, error) {
		var err error
		u, err = h.findPoolUser(ctx, f.Email)
		if errors.Is(err, store.ErrNotFound) {
			h.unknownAccountCheck(password)
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return pool.CheckPassword(u.PasswordHash, password) == nil, nil
	})
	if err != nil {
		return err
	}
	if !res.OK {
		if u.ID != "" { // the password was checked against an account
			action := auditSignInFailed
			if !res.LockedUntil.IsZero() {
				action = auditSignInLockout
			}
			if err := auditSignIn(c, h.Store, h.Locator, u, action, []string{"pwd"}); err != nil {
				return err
			}
		}
		return h.failed(c, f, res)
	}
	now := h.Now()
	if u.Status != store.UserActive {
		f.Error = "This account is disabled. Ask your organization's administrator."
		return h.render(c, http.StatusForbidden, f)
	}
	org, err := h.Store.Organization(ctx, u.OrgID)
	if err != nil {
		return err
	}
	if r := org.InactiveReason(now); r != "" && !u.PlatformAdmin {
		f.Error = "You cannot sign in because " + r + "."
		return h.render(c, http.StatusForbidden, f)
	}
	if ok, err := h.passwordAllowed(ctx, org.ID, u); err != nil {
		return err
	} else if !ok {
		f.Error = "Your organization signs in through its identity provider. Start again with your email address."
		f.Stage = views.StageEmail
		return h.render(c, http.StatusForbidden, f)
	}
	if _, u, err = h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins, x.LockedUntil, x.LastLoginAt = 0, time.Time{}, now
		return nil
	}); err != nil {
		return err
	}
	return h.finish(c, u, "", f)
}

// passwordAttempt runs check as one password attempt for email from the
// request's source network (throttle.go).
func (h *Login) passwordAttempt(c echo.Context, email string, check func() (bool, error)) (passwordResult, error) {
	ip, _ := clientAddress(c, nil)
	return passwordAttempt(c.Request().Context(), h.Store, h.Sleep, email, policyeditor.LocationOf(ip), h.Now(), check)
}

// poolAllowed reports whether an organization's people may use Portico
// passwords: when it has no connections at all, or an identity-pool one.
// An organization that moved to its own IdP thereby turns old passwords off.
func (h *Login) poolAllowed(ctx context.Context, orgID string) (bool, error) {
	all, err := h.Store.Connections(ctx, orgID)
	if err != nil {
		return false, err
	}
	enabled := 0
	for _, x := range all {
		if !x.Enabled {
			continue
		}
		enabled++
		if x.Type == pool.TypeName {
			return true, nil
		}
	}
	return enabled == 0, nil
}

// passwordAllowed applies the rule for passwords once an organization has
// connections: an account keeps its password until its first sign-in
// through a connection links it (by verified email); from then on the
// identity provider decides, and can end access. Platform admins always
// keep theirs.
func (h *Login) passwordAllowed(ctx context.Context, orgID string, u store.User) (bool, error) {
	if u.PlatformAdmin {
		return true, nil
	}
	if ok, err := h.poolAllowed(ctx, orgID); err != nil || ok {
		return ok, err
	}
	linked, err := h.Store.UserLinked(ctx, orgID, u.ID)
	return !linked, err
}

// failed answers a refused password: locked (429) or wrong (401), with
// the same words whether or not the account exists.
func (h *Login) failed(c echo.Context, f views.LoginForm, res passwordResult) error {
	h.Log.Info("sign-in failed", "ip", c.RealIP(), "locked", !res.LockedUntil.IsZero())
	if !res.LockedUntil.IsZero() {
		h.metrics().SignIn("pwd", "locked")
		h.metrics().Lockout("password")
		f.Error = msgSignInLocked(res.LockedUntil)
		return h.render(c, http.StatusTooManyRequests, f)
	}
	h.metrics().SignIn("pwd", "failure")
	f.Error = msgBadCredentials
	if left := pairLimit.Max - res.Failures; left <= 2 {
		f.Error += fmt.Sprintf(" %d more failed attempt(s) from this network will pause sign-in for this email for %d minutes.",
			left, int(res.NextLock.Minutes()))
	}
	return h.render(c, http.StatusUnauthorized, f)
}

// findPoolUser finds the identity-pool account for an email. When the same
// email has pool accounts in several organizations, the one whose
// organization owns the email's domain wins.
func (h *Login) findPoolUser(ctx context.Context, email string) (store.User, error) {
	all, err := h.Store.UsersByEmail(ctx, email)
	if err != nil {
		return store.User{}, err
	}
	var candidates []store.User
	for _, u := range all {
		if u.PasswordHash != "" {
			candidates = append(candidates, u)
		}
	}
	switch len(candidates) {
	case 0:
		return store.User{}, store.ErrNotFound
	case 1:
		return candidates[0], nil
	}
	if org, err := h.Store.OrganizationByDomain(ctx, domainOf(email)); err == nil {
		for _, u := range candidates {
			if u.OrgID == org.ID {
				return u, nil
			}
		}
	}
	return candidates[0], nil
}

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
// itself (the sandbox IdP).
func (h *Login) upstreamPassword(c echo.Context, f views.LoginForm, x store.Connection, pc federation.PasswordConnector, password string) error {
	ctx := c.Request().Context()
	id, ok, err := pc.Login(ctx, f.Email, password)
	if err != nil {
		return err
	}
	if !ok {
		h.Sleep(ctx, slowStep)
		f.Error = msgBadCredentials
		return h.render(c, http.StatusUnauthorized, f)
	}
	u, err := h.Provisioner.Provision(ctx, x, id)
	if err != nil {
		return h.signInError(c, f, x, err)
	}
	return h.finish(c, u, x.ID, f)
}

// poolPassword checks an identity-pool password with throttling and lockout.
func (h *Login) poolPassword(c echo.Context, f views.LoginForm, password string) error {
	ctx := c.Request().Context()
	u, err := h.findPoolUser(ctx, f.Email)
	if errors.Is(err, store.ErrNotFound) {
		h.unknownAccountCheck(password)
		f.Error = msgBadCredentials
		return h.render(c, http.StatusUnauthorized, f)
	}
	if err != nil {
		return err
	}
	now := h.Now()
	if now.Before(u.LockedUntil) {
		f.Error = fmt.Sprintf("Too many failed sign-in attempts. This account is locked until %s UTC.",
			u.LockedUntil.UTC().Format("15:04"))
		return h.render(c, http.StatusTooManyRequests, f)
	}
	if err := pool.CheckPassword(u.PasswordHash, password); err != nil {
		return h.failed(c, u, f)
	}
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
	if ok, err := h.poolAllowed(ctx, org.ID); err != nil {
		return err
	} else if !ok && !u.PlatformAdmin {
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

// failed records a wrong password, slows the answer and locks the account
// at the limit.
func (h *Login) failed(c echo.Context, u store.User, f views.LoginForm) error {
	ctx := c.Request().Context()
	locked, after, err := h.countFailure(ctx, u)
	if err != nil {
		return err
	}
	h.Log.Info("sign-in failed", "user", u.ID, "ip", c.RealIP(), "locked", locked)
	if locked {
		f.Error = fmt.Sprintf("Too many failed sign-in attempts. This account is locked until %s UTC.",
			after.LockedUntil.UTC().Format("15:04"))
		return h.render(c, http.StatusTooManyRequests, f)
	}
	h.Sleep(ctx, time.Duration(after.FailedLogins)*slowStep)
	f.Error = msgBadCredentials
	if left := maxFailures - after.FailedLogins; left <= 2 {
		f.Error += fmt.Sprintf(" %d more failed attempt(s) will lock the account for %d minutes.", left, int(lockFor.Minutes()))
	}
	return h.render(c, http.StatusUnauthorized, f)
}

// countFailure counts a wrong password or code and locks at the limit.
func (h *Login) countFailure(ctx context.Context, u store.User) (locked bool, after store.User, err error) {
	now := h.Now()
	_, after, err = h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins++
		if x.FailedLogins >= maxFailures {
			x.FailedLogins, x.LockedUntil, locked = 0, now.Add(lockFor), true
		}
		return nil
	})
	return locked, after, err
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

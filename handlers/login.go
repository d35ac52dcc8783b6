package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation/pool"
	"portico/store"
	"portico/views"
)

// Sign-in throttling: each wrong password slows the next answer down, and
// the maxFailures-th locks the account for lockFor.
const (
	maxFailures = 5
	lockFor     = 15 * time.Minute
	slowStep    = 400 * time.Millisecond
)

// Login serves sign-in and sign-out for identity-pool accounts.
type Login struct {
	Store    *store.Store
	Sessions *Sessions
	Pages    *Pages
	Log      *slog.Logger
	Now      func() time.Time
	// Sleep waits between failed attempts; tests replace it.
	Sleep func(ctx context.Context, d time.Duration)
	// dummyHash makes a sign-in for an unknown email cost as much as one
	// for a known email, so timing does not reveal which accounts exist.
	dummyHash string
}

// Mount registers the sign-in routes.
func (h *Login) Mount(g *echo.Group) {
	h.dummyHash, _ = pool.HashPassword("dummy password for timing")
	if h.Sleep == nil {
		h.Sleep = func(ctx context.Context, d time.Duration) {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
	}
	g.GET("/login", h.show)
	g.POST("/login", h.submit)
	g.POST("/logout", h.logout)
}

const msgBadCredentials = "The email or password is incorrect."

func (h *Login) show(c echo.Context) error {
	if viewerFrom(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	f := views.LoginForm{AuthRequest: c.QueryParam("auth_request"), Next: c.QueryParam("next")}
	return h.render(c, http.StatusOK, f)
}

func (h *Login) render(c echo.Context, status int, f views.LoginForm) error {
	p := h.Pages.Page(c, "Sign in")
	p.Narrow = true
	return render(c, status, views.Login(p, f))
}

func (h *Login) submit(c echo.Context) error {
	ctx := c.Request().Context()
	f := views.LoginForm{
		Email:       strings.TrimSpace(strings.ToLower(c.FormValue("email"))),
		AuthRequest: c.FormValue("auth_request"),
		Next:        c.FormValue("next"),
	}
	password := c.FormValue("password")
	if f.Email == "" || password == "" {
		f.Error = "Enter your email and password."
		return h.render(c, http.StatusUnprocessableEntity, f)
	}
	u, err := h.findPoolUser(ctx, f.Email)
	if errors.Is(err, store.ErrNotFound) {
		pool.CheckPassword(h.dummyHash, password)
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
	if _, u, err = h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins, x.LockedUntil, x.LastLoginAt = 0, time.Time{}, now
		return nil
	}); err != nil {
		return err
	}
	if _, err := h.Sessions.Start(c, u, time.Time{}, ""); err != nil {
		return err
	}
	h.Log.Info("signed in", "user", u.ID, "org", org.Slug, "ip", c.RealIP())
	return c.Redirect(http.StatusSeeOther, safeNext(f.Next))
}

// failed records a wrong password, slows the answer and locks the account
// at the limit.
func (h *Login) failed(c echo.Context, u store.User, f views.LoginForm) error {
	ctx := c.Request().Context()
	now := h.Now()
	var locked bool
	_, after, err := h.Store.UpdateUser(ctx, u.OrgID, u.ID, func(x *store.User) error {
		x.FailedLogins++
		if x.FailedLogins >= maxFailures {
			x.FailedLogins, x.LockedUntil, locked = 0, now.Add(lockFor), true
		}
		return nil
	})
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
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		if org, err := h.Store.OrganizationByDomain(ctx, email[at+1:]); err == nil {
			for _, u := range candidates {
				if u.OrgID == org.ID {
					return u, nil
				}
			}
		}
	}
	return candidates[0], nil
}

func (h *Login) logout(c echo.Context) error {
	h.Sessions.End(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps post-sign-in redirects inside the portal: only a local
// absolute path is accepted, never a scheme-relative or backslash trick.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/federation/pool"
	"portico/partners"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// Partners mounts the partner-lifecycle pages: organizations and plans for
// platform admins, members and invitations for org admins, the audit log,
// and the developers' apps. They share one partners.Service, so the rules
// are the same as the CLI's.
type Partners struct {
	Store  *store.Store
	Pages  *Pages
	Now    func() time.Time
	Issuer string // base of invitation links
	Log    *slog.Logger
	// Mailer sends invitation links; nil shows them to the inviter only.
	Mailer partners.Mailer
	// OAuth is the authorization server; when it offers client
	// registration, the Apps pages are mounted on it.
	OAuth OAuthServer
	// Sealer seals secrets held for their one-time reveal; nil shows them
	// on the answer to the form instead.
	Sealer *store.Sealer
}

// registrarSource is the optional ability of an OAuthServer to register
// clients, found by type assertion.
type registrarSource interface {
	Registrar() *authserver.Registrar
}

// Mount registers every partner-lifecycle feature.
func (h *Partners) Mount(g *echo.Group) {
	svc := &partners.Service{Store: h.Store, Now: h.Now}
	for _, f := range []interface{ Mount(*echo.Group) }{
		&Orgs{Store: h.Store, Partners: svc, Pages: h.Pages, Now: h.Now},
		&Plans{Store: h.Store, Partners: svc, Pages: h.Pages},
		&Members{Store: h.Store, Partners: svc, Pages: h.Pages, Now: h.Now, Issuer: h.Issuer, Mailer: h.Mailer, Log: h.Log, Sealer: h.Sealer},
		&Invites{Partners: svc, Pages: h.Pages, Passwords: poolPasswords{}},
		&Audit{Store: h.Store, Pages: h.Pages},
	} {
		f.Mount(g)
	}
	if rs, ok := h.OAuth.(registrarSource); ok && rs.Registrar() != nil {
		(&Apps{Store: h.Store, Registrar: rs.Registrar(), Pages: h.Pages, Now: h.Now, Issuer: h.Issuer, Sealer: h.Sealer,
			Policies: &policyeditor.Service{Store: h.Store, Now: h.Now}}).Mount(g)
		apis := &APIs{Store: h.Store, Registrar: rs.Registrar(), Pages: h.Pages}
		if m, ok := h.OAuth.(metadataURLs); ok {
			apis.Metadata = m
		}
		apis.Mount(g)
	}
}

// poolPasswords hands the identity pool's password rules to partners.
type poolPasswords struct{}

func (poolPasswords) Weakness(pw string) string               { return pool.CheckPasswordStrength(pw) }
func (poolPasswords) Hash(pw string) (string, error)          { return pool.HashPassword(pw) }
func actorOf(v *Viewer) store.Actor                           { return store.Actor{UserID: v.User.ID, Label: v.User.Email} }
func fieldErrorsOf(fe partners.FieldErrors) views.FieldErrors { return views.FieldErrors(fe) }

// managerOf is the viewer's authority over memberships.
func managerOf(v *Viewer) partners.Manager {
	return partners.Manager{Actor: actorOf(v), OrgID: v.Org.ID, Role: v.User.Role, PlatformAdmin: v.User.PlatformAdmin}
}

// asFieldErrors reports whether err is a validation failure, and its
// messages.
func asFieldErrors(err error) (views.FieldErrors, bool) {
	var fe partners.FieldErrors
	if errors.As(err, &fe) {
		return fieldErrorsOf(fe), true
	}
	return nil, false
}

// partnersError maps the partners package's refusals to pages; anything
// else passes through to the error handler.
func partnersError(err error) error {
	if errors.Is(err, partners.ErrNotAllowed) {
		return echo.NewHTTPError(http.StatusForbidden)
	}
	return err
}

// doneFlash turns ?done=key after a 303 into a fixed message; unknown keys
// show nothing, so the query string can never put text on the page.
func doneFlash(c echo.Context, messages map[string]string) *views.Flash {
	if msg, ok := messages[c.QueryParam("done")]; ok {
		return &views.Flash{Kind: "ok", Message: msg}
	}
	return nil
}

// formTimeLayout is how datetime-local inputs send a time; we read it as
// UTC, as the labels say.
const formTimeLayout = "2006-01-02T15:04"

// parseFormTime reads an optional UTC time from a form: "" is the zero
// time; a date alone is midnight.
func parseFormTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{formTimeLayout, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// formatFormTime is parseFormTime's inverse.
func formatFormTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(formTimeLayout)
}

// splitList reads a comma-, space- or newline-separated list.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

package handlers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"portico/store"
)

const (
	sessionCookie = "portico_session"
	// sessionIdle ends a session nobody has used for this long.
	sessionIdle = 12 * time.Hour
	// touchEvery limits how often activity is written back.
	touchEvery = time.Minute
)

// Viewer is the signed-in person for the current request.
type Viewer struct {
	User    store.User
	Org     store.Organization
	Session store.Session
}

// IsOrgAdmin reports whether the viewer administers their organization.
func (v *Viewer) IsOrgAdmin() bool { return v.User.Role == store.RoleAdmin }

// IsDeveloper reports whether the viewer may manage their organization's apps.
func (v *Viewer) IsDeveloper() bool { return v.User.Role.Rank() >= store.RoleDeveloper.Rank() }

const viewerKey = "portico.viewer"

func viewerFrom(c echo.Context) *Viewer {
	v, _ := c.Get(viewerKey).(*Viewer)
	return v
}

// Sessions keeps portal sessions: the cookie (signed and encrypted by
// gorilla/sessions with keys generated on first run and kept in the database,
// so a restart signs nobody out) holds a random token; the session itself is
// a database row, so it can be listed and ended from anywhere.
type Sessions struct {
	Store   *store.Store
	Cookies *sessions.CookieStore
	Now     func() time.Time
}

// NewSessions loads or generates the cookie keys.
func NewSessions(ctx context.Context, st *store.Store, secure bool, now func() time.Time) (*Sessions, error) {
	gen := func(n int) func() ([]byte, error) {
		return func() ([]byte, error) {
			b := make([]byte, n)
			_, err := rand.Read(b)
			return b, err
		}
	}
	hashKey, err := st.EnsureSetting(ctx, "session.hash_key", gen(64))
	if err != nil {
		return nil, err
	}
	blockKey, err := st.EnsureSetting(ctx, "session.block_key", gen(32))
	if err != nil {
		return nil, err
	}
	cs := sessions.NewCookieStore(hashKey, blockKey)
	cs.Options = &sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
		MaxAge: int((30 * 24 * time.Hour).Seconds())}
	return &Sessions{Store: st, Cookies: cs, Now: now}, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Start signs u in: any session the browser had is ended and a new one with a
// new token is created, so a token planted before sign-in is worthless.
func (m *Sessions) Start(c echo.Context, u store.User, mfaAt time.Time, connectionID string) (store.Session, error) {
	ctx := c.Request().Context()
	if old := viewerFrom(c); old != nil {
		m.Store.DeleteSession(ctx, old.User.ID, old.Session.ID)
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := m.Now()
	s := store.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(sessionIdle),
		MFAAt: mfaAt, ConnectionID: connectionID, IP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 200)}
	if err := m.Store.CreateSession(ctx, &s, hashToken(token)); err != nil {
		return s, err
	}
	cs, _ := m.Cookies.New(c.Request(), sessionCookie)
	cs.Values["t"] = token
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return s, fmt.Errorf("session cookie: %w", err)
	}
	return s, nil
}

// End signs the browser out.
func (m *Sessions) End(c echo.Context) {
	if v := viewerFrom(c); v != nil {
		m.Store.DeleteSession(c.Request().Context(), v.User.ID, v.Session.ID)
	}
	cs, _ := m.Cookies.New(c.Request(), sessionCookie)
	cs.Options = &sessions.Options{Path: "/", MaxAge: -1}
	cs.Save(c.Request(), c.Response())
	c.Set(viewerKey, nil)
}

// errSessionEnded means the session exists but its user or organization may
// no longer use Portico; the message says why.
type errSessionEnded struct{ reason string }

func (e errSessionEnded) Error() string { return e.reason }

// load finds the request's session, user and organization. No cookie, an
// unknown or expired token: (nil, nil).
func (m *Sessions) load(c echo.Context) (*Viewer, error) {
	cs, err := m.Cookies.Get(c.Request(), sessionCookie)
	if err != nil {
		return nil, nil // tampered or from old keys: treat as signed out
	}
	token, _ := cs.Values["t"].(string)
	if token == "" {
		return nil, nil
	}
	ctx := c.Request().Context()
	now := m.Now()
	s, err := m.Store.SessionByTokenHash(ctx, hashToken(token), now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := m.Store.UserByID(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	org, err := m.Store.Organization(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	v := &Viewer{User: u, Org: org, Session: s}
	if u.Status != store.UserActive {
		m.Store.DeleteSession(ctx, u.ID, s.ID)
		return v, errSessionEnded{"Your account is disabled."}
	}
	if r := org.InactiveReason(now); r != "" && !u.PlatformAdmin {
		m.Store.DeleteSession(ctx, u.ID, s.ID)
		return v, errSessionEnded{"You were signed out because " + r + "."}
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		m.Store.TouchSession(ctx, s.ID, now, now.Add(sessionIdle))
	}
	return v, nil
}

// middleware attaches the Viewer, if any, to every request.
func (m *Sessions) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := m.load(c)
		var ended errSessionEnded
		switch {
		case errors.As(err, &ended):
			return &PageError{Status: http.StatusForbidden, Message: ended.reason}
		case err != nil:
			return err
		}
		if v != nil {
			c.Set(viewerKey, v)
		}
		return next(c)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

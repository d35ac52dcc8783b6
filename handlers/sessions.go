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
	// DefaultSessionMaxAge ends every session this long after sign-in,
	// however active (PORTICO_SESSION_MAX_AGE changes it).
	DefaultSessionMaxAge = 7 * 24 * time.Hour
	// touchEvery limits how often activity is written back.
	touchEvery = time.Minute
)

// Viewer is the signed-in person for the current request.
type Viewer struct {
	User    store.User
	Org     store.Organization
	Session store.Session
	// principal is the cache entry the viewer came from (nil when it was
	// read from the store without caching, or was just signed in).
	principal *principal
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
//
// A session ends after sessionIdle without use or MaxAge after sign-in,
// whichever comes first. Its token is replaced (Rotate) at every step-up
// and whenever its user's privileges change, so a token copied before
// cannot ride on the stronger session.
type Sessions struct {
	Store   *store.Store
	Cookies *sessions.CookieStore
	Now     func() time.Time
	// MaxAge is the absolute lifetime of a session.
	MaxAge time.Duration
	// cookie is the cookie's name: on https it carries the __Host- prefix,
	// so only this host, over https, at Path=/ can set it.
	cookie string
	// tokens caches what a cookie's exact value decodes to (cookie_cache.go).
	tokens cookieTokens
	// principals caches, per session token, what the store said about it
	// (principal_cache.go).
	principals principalCache
}

// NewSessions loads or generates the cookie keys, kept sealed under the
// portal's secret key (keys stored unsealed by older versions are sealed on
// this read). maxAge 0 means DefaultSessionMaxAge.
func NewSessions(ctx context.Context, st *store.Store, sealer *store.Sealer, secure bool, maxAge time.Duration, now func() time.Time) (*Sessions, error) {
	if sealer == nil {
		return nil, errors.New("handlers: sessions need the Sealer (SignIn.Sealer) to keep their keys sealed")
	}
	if maxAge <= 0 {
		maxAge = DefaultSessionMaxAge
	}
	hashKey, err := st.SealedSetting(ctx, sealer, "session.hash_key", 64)
	if err != nil {
		return nil, err
	}
	blockKey, err := st.SealedSetting(ctx, sealer, "session.block_key", 32)
	if err != nil {
		return nil, err
	}
	cs := sessions.NewCookieStore(hashKey, blockKey)
	cs.MaxAge(int(maxAge.Seconds())) // also bounds the signed timestamp inside the cookie
	cs.Options = &sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
		MaxAge: int(maxAge.Seconds())}
	name := sessionCookie
	if secure {
		name = "__Host-" + sessionCookie
	}
	return &Sessions{Store: st, Cookies: cs, Now: now, MaxAge: maxAge, cookie: name}, nil
}

// privilegeOf is what a session's token is issued for: a change of role or
// of the platform-admin flag replaces the token.
func privilegeOf(u store.User) string {
	p := "role=" + string(u.Role)
	if u.PlatformAdmin {
		p += ";platform-admin"
	}
	return p
}

// expiry is when a session last seen at now ends: idle timeout or
// absolute lifetime, whichever is sooner.
func (m *Sessions) expiry(created, now time.Time) time.Time {
	idle, abs := now.Add(sessionIdle), created.Add(m.MaxAge)
	if abs.Before(idle) {
		return abs
	}
	return idle
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
	token := newSessionToken()
	now := m.Now()
	s := store.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: m.expiry(now, now),
		MFAAt: mfaAt, ConnectionID: connectionID, IP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 200),
		Privilege: privilegeOf(u)}
	if err := m.Store.CreateSession(ctx, &s, hashToken(token)); err != nil {
		return s, err
	}
	if err := m.setCookie(c, token); err != nil {
		return s, err
	}
	// Forms rendered for the rest of this request belong to the new session.
	c.Set(viewerKey, &Viewer{User: u, Session: s})
	if org, err := m.Store.Organization(ctx, u.OrgID); err == nil {
		viewerFrom(c).Org = org
	}
	return s, nil
}

func newSessionToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (m *Sessions) setCookie(c echo.Context, token string) error {
	cs, _ := m.Cookies.New(c.Request(), m.cookie)
	cs.Values["t"] = token
	if err := cs.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("session cookie: %w", err)
	}
	return nil
}

// Rotate gives the request's session a new identifier and token (and a
// new CSRF token with it): call it at step-up. The old cookie stops
// working at once. Without a session it does nothing.
func (m *Sessions) Rotate(c echo.Context) error {
	v := viewerFrom(c)
	if v == nil {
		return nil
	}
	return m.rotate(c, v)
}

func (m *Sessions) rotate(c echo.Context, v *Viewer) error {
	token, id, priv := newSessionToken(), store.NewID(), privilegeOf(v.User)
	if err := m.Store.RotateSession(c.Request().Context(), v.User.ID, v.Session.ID, id, hashToken(token), priv); err != nil {
		return err
	}
	v.Session.ID, v.Session.Privilege = id, priv
	v.principal = nil // the entry describes the old token's session
	return m.setCookie(c, token)
}

// End signs the browser out.
func (m *Sessions) End(c echo.Context) {
	if v := viewerFrom(c); v != nil {
		m.Store.DeleteSession(c.Request().Context(), v.User.ID, v.Session.ID)
	}
	cs, _ := m.Cookies.New(c.Request(), m.cookie)
	cs.Options = &sessions.Options{Path: "/", MaxAge: -1, Secure: m.Cookies.Options.Secure, HttpOnly: true}
	cs.Save(c.Request(), c.Response())
	c.Set(viewerKey, nil)
}

// errSessionEnded means the session exists but its user or organization may
// no longer use Portico; the message says why.
type errSessionEnded struct{ reason string }

func (e errSessionEnded) Error() string { return e.reason }

// load finds the request's session, user and organization. No cookie, an
// unknown or expired token: (nil, nil). A token seen before is answered from
// the principal cache while the store's data version has not moved.
func (m *Sessions) load(c echo.Context) (*Viewer, error) {
	ck, err := c.Request().Cookie(m.cookie)
	if err != nil {
		return nil, nil
	}
	now := m.Now()
	tok, ok := m.tokens.lookup(ck.Value, now)
	if !ok {
		cs, err := m.Cookies.Get(c.Request(), m.cookie)
		if err != nil {
			return nil, nil // tampered or from old keys: treat as signed out
		}
		token, _ := cs.Values["t"].(string)
		if token == "" {
			return nil, nil
		}
		m.tokens.put(ck.Value, token, now)
		tok = cookieToken{token: token, hash: hashToken(token)}
	}
	ctx := c.Request().Context()
	// Read before anything it vouches for: a change committed while the
	// store is read below moves it, and the entry is not trusted next time.
	dv, verr := m.Store.DataVersion(ctx)
	if verr == nil {
		if p := m.principals.get(tok.hash, dv); p != nil {
			if v := m.fromCache(ctx, p, now); v != nil {
				return v, nil
			}
		}
	}
	v, cacheable, err := m.loadFromStore(c, tok.hash, now)
	if err != nil || v == nil || !cacheable || verr != nil {
		return v, err
	}
	p := &principal{ver: dv, session: v.Session, user: v.User, org: v.Org}
	p.seen.Store(v.Session.LastSeenAt.UnixMilli())
	p.expires.Store(v.Session.ExpiresAt.UnixMilli())
	if v.User.PasswordHash != "" {
		if p.pwChange, err = m.Store.PasswordChangeRequired(ctx, v.User.ID); err != nil {
			return nil, err
		}
	}
	m.principals.put(tok.hash, p)
	v.principal = p
	return v, nil
}

// fromCache is the Viewer for a cached principal, or nil when the clock
// says the session may have ended (idle or absolute expiry, the
// organization's partnership window): then the store decides, as on a miss.
// Activity is written back at most once a minute, without moving the data
// version.
func (m *Sessions) fromCache(ctx context.Context, p *principal, now time.Time) *Viewer {
	nowMS := now.UnixMilli()
	if nowMS >= p.expires.Load() || !now.Before(p.session.CreatedAt.Add(m.MaxAge)) {
		return nil
	}
	if !p.user.PlatformAdmin && p.org.InactiveReason(now) != "" {
		return nil
	}
	if seen := p.seen.Load(); nowMS-seen > touchEvery.Milliseconds() && p.seen.CompareAndSwap(seen, nowMS) {
		// The cache slides the idle timeout only as far as the row did:
		// a failed write must not keep serving a session the store ends.
		exp := m.expiry(p.session.CreatedAt, now)
		if m.Store.TouchSession(ctx, p.session.ID, now, exp) == nil {
			p.expires.Store(exp.UnixMilli())
		}
	}
	return p.viewer()
}

// loadFromStore reads the session of the token hashing to hash, its user
// and organization, and applies every rule; cacheable is false when the
// request's token was replaced on the way (a privilege change).
func (m *Sessions) loadFromStore(c echo.Context, hash string, now time.Time) (v *Viewer, cacheable bool, err error) {
	ctx := c.Request().Context()
	s, err := m.Store.SessionByTokenHash(ctx, hash, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !now.Before(s.CreatedAt.Add(m.MaxAge)) { // absolute lifetime reached, however active
		m.Store.DeleteSession(ctx, s.UserID, s.ID)
		return nil, false, nil
	}
	u, err := m.Store.UserByID(ctx, s.UserID)
	if err != nil {
		return nil, false, err
	}
	org, err := m.Store.Organization(ctx, u.OrgID)
	if err != nil {
		return nil, false, err
	}
	v = &Viewer{User: u, Org: org, Session: s}
	if u.Status != store.UserActive {
		m.Store.DeleteSession(ctx, u.ID, s.ID)
		return v, false, errSessionEnded{"Your account is disabled."}
	}
	if r := org.InactiveReason(now); r != "" && !u.PlatformAdmin {
		m.Store.DeleteSession(ctx, u.ID, s.ID)
		return v, false, errSessionEnded{"You were signed out because " + r + "."}
	}
	cacheable = true
	if s.Privilege != privilegeOf(u) {
		// The role or platform-admin flag changed since this token was
		// issued (by an admin, or by the user themself): replace it.
		if err := m.rotate(c, v); errors.Is(err, store.ErrConflict) {
			return nil, false, nil // a concurrent request rotated it first; this cookie is the old one
		} else if err != nil {
			return nil, false, err
		}
		cacheable = false
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		exp := m.expiry(s.CreatedAt, now)
		if m.Store.TouchSession(ctx, v.Session.ID, now, exp) == nil {
			v.Session.LastSeenAt, v.Session.ExpiresAt = now, exp
		}
	}
	return v, cacheable, nil
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
		attachViewer(c, v)
		return next(c)
	}
}

// attachViewer makes v the request's viewer, and its cached principal
// what the request's helpers (session auth, policy facts, the password
// gate) answer from.
func attachViewer(c echo.Context, v *Viewer) {
	if v == nil {
		return
	}
	c.Set(viewerKey, v)
	if v.principal != nil {
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), principalKey{}, v.principal)))
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

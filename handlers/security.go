package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// securityHeaders sets the headers every response carries. The CSP allows
// no inline script at all: the only scripts are the embedded static files.
func securityHeaders(secure bool) echo.MiddlewareFunc {
	// Names in canonical form (they are set into the map directly).
	names := []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
		"Referrer-Policy", "Cross-Origin-Opener-Policy", "Permissions-Policy"}
	values := []string{"default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data: https:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
		"nosniff",
		"DENY",
		// same-origin, not no-referrer: under no-referrer browsers send
		// "Origin: null" with our own form posts, and the CSRF check
		// needs the real origin. Other sites still get no Referer.
		"same-origin",
		"same-origin",
		"camera=(), microphone=(), geolocation=()"}
	if secure {
		names = append(names, "Strict-Transport-Security")
		values = append(values, "max-age=31536000; includeSubDomains")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Every request pays for this, the protocol endpoints too: one
			// allocation for all values (each its own one-element slice, so
			// nothing is shared between responses) instead of one per
			// header, and no canonicalization of names that already are.
			h := c.Response().Header()
			v := make([]string, len(values))
			copy(v, values)
			for i, name := range names {
				h[name] = v[i : i+1 : i+1]
			}
			return next(c)
		}
	}
}

const csrfField = "_csrf"

// csrf protects every state-changing request (any method but GET, HEAD and
// OPTIONS) three ways:
//
//   - The token is bound to the session: it is an HMAC, under a sealed
//     server key, of the session's identifier, or, before sign-in, of a
//     random browser identifier kept in an HttpOnly cookie. A token from
//     another session or browser, or from before a rotation, is refused.
//   - The token is read from the form body or the X-CSRF-Token header only,
//     never from the query string (URLs end up in logs and histories).
//   - The request's Origin, or without one its Referer, must be the
//     portal's own origin; "null" and anything else is refused. Browsers
//     that send Sec-Fetch-Site: cross-site are refused as well.
type csrf struct {
	cookie string
	secure bool
	key    []byte
	origin string // scheme://host[:port] of the issuer
	skip   func(c echo.Context) bool
	macs   sync.Pool // of hmac.New(sha256.New, key)
}

func newCSRF(secure bool, key []byte, issuer string, skip func(c echo.Context) bool) *csrf {
	name := "portico_csrf"
	if secure {
		name = "__Host-portico_csrf" // pinned to this host and path, never set by a sibling subdomain
	}
	return &csrf{cookie: name, secure: secure, key: key, origin: originOf(issuer), skip: skip}
}

// originOf returns the origin (scheme://host[:port], lower case, default
// port dropped) of a URL; "" when it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host
}

var errCSRF = &PageError{Status: http.StatusForbidden,
	Message: "This form has expired or did not come from Portico. Go back, reload the page and try again."}

const (
	csrfKey        = "portico.csrf"
	csrfBrowserKey = "portico.csrf.browser"
)

func (m *csrf) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m.skip(c) {
			return next(c)
		}
		browser := ""
		if ck, err := c.Cookie(m.cookie); err == nil && len(ck.Value) >= 32 {
			browser = ck.Value
		}
		c.Set(csrfKey, m)
		c.Set(csrfBrowserKey, browser)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if err := m.check(c); err != nil {
				return err
			}
		}
		if browser == "" {
			b := make([]byte, 32)
			rand.Read(b)
			browser = base64.RawURLEncoding.EncodeToString(b)
			c.Set(csrfBrowserKey, browser)
			c.SetCookie(&http.Cookie{Name: m.cookie, Value: browser, Path: "/", HttpOnly: true,
				Secure: m.secure, SameSite: http.SameSiteLaxMode})
		}
		return next(c)
	}
}

// check decides a state-changing request.
func (m *csrf) check(c echo.Context) error {
	r := c.Request()
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errCSRF
	}
	if o := r.Header.Get("Origin"); o != "" {
		if o != m.origin {
			return errCSRF
		}
	} else if ref := r.Header.Get("Referer"); ref != "" && originOf(ref) != m.origin {
		return errCSRF
	}
	sent := r.Header.Get("X-CSRF-Token")
	if sent == "" {
		sent = r.PostFormValue(csrfField) // the body only: never the query string
	}
	want := m.tokenFor(c)
	if sent == "" || want == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// tokenFor is the token that belongs to this request's session, or, with
// no session, to this browser; "" when there is neither yet.
func (m *csrf) tokenFor(c echo.Context) string {
	var subject string
	if v := viewerFrom(c); v != nil {
		subject = "session\x00" + v.Session.ID
	} else if b, _ := c.Get(csrfBrowserKey).(string); b != "" {
		subject = "browser\x00" + b
	} else {
		return ""
	}
	// Every page draws a token: the keyed hashes are reused rather than
	// set up with the key each time.
	mac, _ := m.macs.Get().(hash.Hash)
	if mac == nil {
		mac = hmac.New(sha256.New, m.key)
	}
	mac.Reset()
	mac.Write([]byte(subject))
	var sum [sha256.Size]byte
	token := base64.RawURLEncoding.EncodeToString(mac.Sum(sum[:0]))
	m.macs.Put(mac)
	return token
}

// csrfToken is the token to put in forms rendered for this request. It is
// computed when asked, so a form rendered after sign-in or a session
// rotation in the same request carries the new session's token.
func csrfToken(c echo.Context) string {
	m, _ := c.Get(csrfKey).(*csrf)
	if m == nil {
		return ""
	}
	return m.tokenFor(c)
}

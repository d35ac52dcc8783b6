package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"
)

// securityHeaders sets the headers every response carries. The CSP allows
// no inline script at all: the only scripts are the embedded static files.
func securityHeaders(secure bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
				"img-src 'self' data: https:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if secure {
				h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			return next(c)
		}
	}
}

const csrfField = "_csrf"

// csrf protects every state-changing request with a double-submit token: a
// random value in an HttpOnly cookie that each form repeats in a hidden
// field (or htmx in the X-CSRF-Token header). A cross-site request can send
// the cookie but cannot read it to fill in the field. Browsers that send
// Sec-Fetch-Site: cross-site are refused outright as a second line.
type csrf struct {
	cookie string
	secure bool
	skip   func(c echo.Context) bool
}

func newCSRF(secure bool, skip func(c echo.Context) bool) *csrf {
	name := "portico_csrf"
	if secure {
		name = "__Host-portico_csrf" // pinned to this host and path, never set by a sibling subdomain
	}
	return &csrf{cookie: name, secure: secure, skip: skip}
}

var errCSRF = &PageError{Status: http.StatusForbidden,
	Message: "This form has expired or did not come from Portico. Go back, reload the page and try again."}

func (m *csrf) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m.skip(c) {
			return next(c)
		}
		token := ""
		if ck, err := c.Cookie(m.cookie); err == nil && len(ck.Value) >= 32 {
			token = ck.Value
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if c.Request().Header.Get("Sec-Fetch-Site") == "cross-site" {
				return errCSRF
			}
			sent := c.Request().Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = c.FormValue(csrfField)
			}
			if token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				return errCSRF
			}
		}
		if token == "" {
			b := make([]byte, 32)
			rand.Read(b)
			token = base64.RawURLEncoding.EncodeToString(b)
			c.SetCookie(&http.Cookie{Name: m.cookie, Value: token, Path: "/", HttpOnly: true,
				Secure: m.secure, SameSite: http.SameSiteLaxMode})
		}
		c.Set(csrfKey, token)
		return next(c)
	}
}

const csrfKey = "portico.csrf"

// csrfToken is the token to put in forms rendered for this request.
func csrfToken(c echo.Context) string {
	s, _ := c.Get(csrfKey).(string)
	return s
}

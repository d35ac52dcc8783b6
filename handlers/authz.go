package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// requireUser sends anonymous browsers to the sign-in page and answers API
// clients with 401.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if viewerFrom(c) == nil {
			r := c.Request()
			if r.Method == http.MethodGet && !wantsJSON(r) {
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
			}
			return echo.NewHTTPError(http.StatusUnauthorized)
		}
		return next(c)
	}
}

// requireRole lets through signed-in viewers that allow accepts; others get
// 403. Mount it after requireUser.
func requireRole(allow func(v *Viewer) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v := viewerFrom(c)
			if v == nil {
				return echo.NewHTTPError(http.StatusUnauthorized)
			}
			if !allow(v) {
				return echo.NewHTTPError(http.StatusForbidden)
			}
			return next(c)
		}
	}
}

// Role predicates for requireRole and navigation.
func anyone(*Viewer) bool           { return true }
func developers(v *Viewer) bool     { return v.IsDeveloper() }
func orgAdmins(v *Viewer) bool      { return v.IsOrgAdmin() }
func platformAdmins(v *Viewer) bool { return v.User.PlatformAdmin }

package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// Home serves the signed-in landing page and the health check.
type Home struct {
	Store *store.Store
	Pages *Pages
}

// Mount registers the routes.
func (h *Home) Mount(g *echo.Group) {
	h.Pages.AddNav("Home", "/", anyone)
	g.GET("/healthz", h.health)
	g.GET("/", h.home, requireUser)
}

func (h *Home) home(c echo.Context) error {
	v := viewerFrom(c)
	return render(c, http.StatusOK, views.Home(h.Pages.Page(c, "Home"), views.HomeProps{
		Name: v.User.Name, OrgName: v.Org.Name, Role: string(v.User.Role), PlatformAdmin: v.User.PlatformAdmin,
	}))
}

// health answers 200 when the database answers, 503 otherwise.
func (h *Home) health(c echo.Context) error {
	if err := h.Store.Ping(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

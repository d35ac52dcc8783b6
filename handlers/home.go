package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// Home serves the dashboard, where people launch their organization's apps,
// and the health check.
type Home struct {
	Store  *store.Store
	Pages  *Pages
	Launch *Launch
}

// Mount registers the routes.
func (h *Home) Mount(g *echo.Group) {
	h.Pages.AddNav("Apps", "/", anyone)
	g.GET("/healthz", h.health)
	g.GET("/", h.home, requireUser)
}

func (h *Home) home(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	apps, err := h.Launch.launchable(ctx, v)
	if err != nil {
		return err
	}
	facts, err := h.Launch.facts(c, v) // once, however many tiles
	if err != nil {
		return err
	}
	if h.Launch.Preview != nil && len(apps) > 0 {
		// One revalidation for every badge on the page. Badges are a
		// preview: if the check fails, each badge asks for itself as before.
		if checked, err := h.Launch.Preview.Checked(ctx); err == nil {
			c.SetRequest(c.Request().WithContext(checked))
		}
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	props := views.HomeProps{Name: v.User.Name, OrgName: v.Org.Name, Role: string(v.User.Role),
		PlatformAdmin: v.User.PlatformAdmin, Query: q, Total: len(apps)}
	for _, app := range apps {
		if q != "" && !strings.Contains(strings.ToLower(app.Name), strings.ToLower(q)) {
			continue
		}
		props.Apps = append(props.Apps, views.AppTile{ClientID: app.ClientID, Name: app.Name, LogoURL: app.LogoURL,
			Badge: h.Launch.preview(c, v, app, facts)})
	}
	return render(c, http.StatusOK, views.Home(h.Pages.Page(c, "Apps"), props))
}

// health answers 200 when the database answers, 503 otherwise.
func (h *Home) health(c echo.Context) error {
	if err := h.Store.Ping(c.Request().Context()); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

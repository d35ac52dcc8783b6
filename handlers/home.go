package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/store"
	"portico/views"
)

// Home serves the dashboard, where people launch their organization's apps,
// and the health check.
type Home struct {
	Store  *store.Store
	Pages  *Pages
	Launch *Launch
	Now    func() time.Time
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
	if v.User.PlatformAdmin {
		if props.Ops, err = h.platformOps(c); err != nil {
			return err
		}
	}
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

// platformOps is the platform admin's overview: partnerships ending within
// 30 days, sign-ins and tokens per day over two weeks, and the webhooks
// whose deliveries failed in the last day.
func (h *Home) platformOps(c echo.Context) (*views.PlatformOps, error) {
	ctx := c.Request().Context()
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	ops := &views.PlatformOps{}
	ending, err := h.Store.OrganizationsEndingBetween(ctx, now, now.Add(partners.EndingSoonWindow), 10)
	if err != nil {
		return nil, err
	}
	for _, o := range partners.EndingSoon(ending, now, partners.EndingSoonWindow) {
		ops.EndingSoon = append(ops.EndingSoon, orgRow(o, nil, now))
	}
	for _, k := range []struct {
		kind, title string
		chart       *views.BarChart
	}{{store.ActivitySignIns, "Sign-ins per day", &ops.Activity}, {store.ActivityTokens, "Tokens issued per day", &ops.Tokens}} {
		days, err := h.Store.Activity(ctx, k.kind, now.Add(-13*24*time.Hour), now)
		if err != nil {
			return nil, err
		}
		*k.chart = views.BarChart{ID: "chart-" + k.kind, Title: k.title, Series: []string{k.kind}}
		for i, d := range days {
			k.chart.Bars = append(k.chart.Bars, views.ChartBar{Label: d.Day.Format("01-02"), ShowLabel: i%2 == 1,
				Title: d.Day.Format("2006-01-02") + ": " + strconv.Itoa(d.N), Permit: d.N})
		}
	}
	failing, err := h.Store.FailingWebhooks(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	if len(failing) > 0 {
		subs, err := h.Store.WebhookSubscriptions(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			if n := failing[s.ID]; n > 0 {
				ops.Failing = append(ops.Failing, webhookRow(s, n))
			}
		}
	}
	return ops, nil
}

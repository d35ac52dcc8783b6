package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
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

	// ops is the platform admin's overview, rendered, for a moment.
	ops   atomic.Pointer[opsEntry]
	opsMu sync.Mutex // one refill at a time
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
	// One data-version question for the page's caches, before they read.
	dv, verr := h.Store.DataVersion(ctx)
	apps, err := h.Launch.launchable(ctx, v, dv, verr == nil)
	if err != nil {
		return err
	}
	facts, err := h.Launch.facts(c, v) // once, however many tiles
	if err != nil {
		return err
	}
	var badges *badgePreview
	if len(apps) > 0 {
		badges = h.Launch.badges(ctx, v, facts)
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	props := views.HomeProps{Name: v.User.Name, OrgName: v.Org.Name, Role: string(v.User.Role),
		PlatformAdmin: v.User.PlatformAdmin, Query: q, Total: len(apps)}
	if v.User.PlatformAdmin {
		if props.Ops, err = h.platformOps(ctx, dv, verr == nil); err != nil {
			return err
		}
	}
	lq := strings.ToLower(q)
	props.Apps = make([]views.AppTile, 0, len(apps))
	for _, app := range apps {
		if q != "" && !strings.Contains(strings.ToLower(app.Name), lq) {
			continue
		}
		props.Apps = append(props.Apps, views.AppTile{ClientID: app.ClientID, Name: app.Name, LogoURL: app.LogoURL,
			Badge: badges.badge(app)})
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

// opsEntry is the platform overview as rendered at one moment.
type opsEntry struct {
	html    string
	version int64     // the store's data version it was read at
	made    int64     // opsClock when it was read
	now     time.Time // the injected clock when it was read
}

// opsMaxAge bounds how long the platform overview is reused. It is a
// summary of three queries (most of the dashboard's own database time for
// a platform admin), so it is kept rendered while the store's data version
// is unchanged, for up to opsMaxAge, also on the injected clock, since its
// windows move with time. Correct enough for a summary: a change to
// organizations or webhook subscriptions moves the version and shows at
// once, but sign-in and token counts and failed deliveries (tables that
// need not move the version) may show up to opsMaxAge late.
const opsMaxAge = 5 * time.Second

// fresh reports whether e may be shown at mono (opsClock), now (injected
// clock) and data version.
func (e *opsEntry) fresh(mono int64, now time.Time, version int64) bool {
	return e != nil && version == e.version && time.Duration(mono-e.made) < opsMaxAge &&
		!now.Before(e.now) && now.Sub(e.now) < opsMaxAge
}

// opsStart anchors opsClock, monotonic nanoseconds that pace the cache:
// the injected clock may stand still in tests.
var opsStart = time.Now()

func opsClock() int64 { return int64(time.Since(opsStart)) }

// platformOps is the platform admin's overview, from the cache when it is
// fresh at data version dv (known false: it could not be read, so nothing
// is reused).
func (h *Home) platformOps(ctx context.Context, dv int64, known bool) (templ.Component, error) {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	if e := h.ops.Load(); known && e.fresh(opsClock(), now, dv) {
		return templ.Raw(e.html), nil
	}
	h.opsMu.Lock()
	defer h.opsMu.Unlock()
	mono := opsClock()
	if e := h.ops.Load(); known && e.fresh(mono, now, dv) { // refilled while this one waited
		return templ.Raw(e.html), nil
	}
	ops, err := h.loadPlatformOps(ctx, now)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := views.PlatformOpsSection(ops).Render(ctx, &buf); err != nil {
		return nil, err
	}
	e := &opsEntry{html: buf.String(), version: dv, made: mono, now: now}
	if known {
		h.ops.Store(e)
	}
	return templ.Raw(e.html), nil
}

// loadPlatformOps reads the platform admin's overview: partnerships ending
// within 30 days, sign-ins and tokens per day over two weeks, and the
// webhooks whose deliveries failed in the last day.
func (h *Home) loadPlatformOps(ctx context.Context, now time.Time) (views.PlatformOps, error) {
	var ops views.PlatformOps
	ending, err := h.Store.OrganizationsEndingBetween(ctx, now, now.Add(partners.EndingSoonWindow), 10)
	if err != nil {
		return ops, err
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
			return ops, err
		}
		*k.chart = views.BarChart{ID: "chart-" + k.kind, Title: k.title, Series: []string{k.kind}}
		for i, d := range days {
			k.chart.Bars = append(k.chart.Bars, views.ChartBar{Label: d.Day.Format("01-02"), ShowLabel: i%2 == 1,
				Title: d.Day.Format("2006-01-02") + ": " + strconv.Itoa(d.N), Permit: d.N})
		}
	}
	failing, err := h.Store.FailingWebhooks(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return ops, err
	}
	if len(failing) > 0 {
		subs, err := h.Store.WebhookSubscriptions(ctx)
		if err != nil {
			return ops, err
		}
		for _, s := range subs {
			if n := failing[s.ID]; n > 0 {
				ops.Failing = append(ops.Failing, webhookRow(s, n))
			}
		}
	}
	return ops, nil
}

package handlers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// Decisions serves the decision log: platform admins see every
// organization's decisions, org admins only their own organization's, and
// that scope is part of every query, never a filter the page can drop.
type Decisions struct {
	Store *store.Store
	Pages *Pages
	Now   func() time.Time

	// The charts count a day or a month of the log: on a busy portal that
	// is millions of rows, so each scope's counts are reused for a minute.
	chartsMu    sync.Mutex
	chartsCache map[string]cachedCharts
}

type cachedCharts struct {
	at     time.Time
	charts *views.DecisionCharts
}

const chartsFresh = time.Minute

func decisionReaders(v *Viewer) bool { return v.User.PlatformAdmin || v.IsOrgAdmin() }

// Mount registers the routes.
func (h *Decisions) Mount(g *echo.Group) {
	h.Pages.AddNav("Decisions", "/decisions", decisionReaders)
	a := g.Group("/decisions", requireUser, requireRole(decisionReaders))
	a.GET("", h.list)
	a.GET("/export.csv", h.csv)
	a.GET("/:id", h.show)
}

// filter reads the query into a store filter scoped to what the viewer may
// see; form holds the values as typed, to show them again.
func (h *Decisions) filter(c echo.Context) (store.DecisionFilter, views.DecisionFilterProps, error) {
	v := viewerFrom(c)
	q := c.QueryParams()
	fp := views.DecisionFilterProps{Org: q.Get("org"), User: q.Get("user"), Client: q.Get("client"), Action: q.Get("action"),
		Point: q.Get("point"), From: q.Get("from"), Until: q.Get("until"), Platform: v.User.PlatformAdmin, Errors: map[string][]string{}}
	f := store.DecisionFilter{User: strings.TrimSpace(fp.User), ClientID: strings.TrimSpace(fp.Client), Limit: 500}
	if a, err := policyeditor.ParseAction(fp.Action); err == nil {
		f.Action = a.String()
	}
	for _, p := range policyeditor.Points() {
		if string(p) == fp.Point {
			f.Point = fp.Point
		}
	}
	var err error
	if f.From, err = parseDay(fp.From); err != nil {
		fp.Errors["from"] = []string{"use a date such as 2026-11-23"}
	}
	if f.Until, err = parseDay(fp.Until); err != nil {
		fp.Errors["until"] = []string{"use a date such as 2026-11-23"}
	} else if !f.Until.IsZero() {
		f.Until = f.Until.Add(24 * time.Hour) // the whole day
	}
	switch {
	case !v.User.PlatformAdmin:
		f.OrgID, fp.Org = v.Org.ID, v.Org.Slug
	case fp.Org != "":
		o, err := h.Store.OrganizationBySlug(c.Request().Context(), strings.TrimSpace(fp.Org))
		if errors.Is(err, store.ErrNotFound) {
			fp.Errors["org"] = []string{"no organization has this slug"}
			f.OrgID = "\x00none" // nothing matches, rather than everything
		} else if err != nil {
			return f, fp, err
		} else {
			f.OrgID = o.ID
		}
	}
	return f, fp, nil
}

func parseDay(s string) (time.Time, error) {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

func (h *Decisions) list(c echo.Context) error {
	ctx := c.Request().Context()
	if ref := strings.TrimSpace(c.QueryParam("ref")); ref != "" {
		return c.Redirect(http.StatusSeeOther, "/decisions/"+urlPathEscape(ref))
	}
	f, fp, err := h.filter(c)
	if err != nil {
		return err
	}
	ds, info, err := h.Store.DecisionPage(ctx, f, pageOf(c))
	if err != nil {
		return err
	}
	slugs, err := h.orgSlugs(ctx, ds)
	if err != nil {
		return err
	}
	props := views.DecisionListProps{Filter: fp, Query: c.QueryString(), Attribution: policyeditor.IP2LocationAttributionHTML,
		Pager: pagerOf(c, "/decisions", info)}
	for _, p := range policyeditor.Points() {
		props.Points = append(props.Points, string(p))
	}
	for _, d := range ds {
		props.Rows = append(props.Rows, decisionRow(d, slugs))
	}
	if props.Charts, err = h.charts(c, f.OrgID); err != nil {
		return err
	}
	status := http.StatusOK
	if len(fp.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, views.DecisionList(h.Pages.Page(c, "Decisions"), props))
}

// orgSlugs names the organizations of ds (one query for them all).
func (h *Decisions) orgSlugs(ctx context.Context, ds []store.Decision) (map[string]string, error) {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.OrgID
	}
	return h.Store.OrgSlugs(ctx, ids)
}

func decisionRow(d store.Decision, slugs map[string]string) views.DecisionRow {
	r := views.DecisionRow{ID: d.ID, At: d.At.UTC().Format("2006-01-02 15:04:05"), Point: d.Point, Org: slugs[d.OrgID],
		Subject: d.Subject, Client: d.ClientID, Action: d.Action, Reason: d.Reason, Policy: d.PolicyName,
		Version: d.PolicyVersion, Rule: "default", Context: string(d.Context), PolicyID: d.PolicyID, UserID: d.UserID}
	if d.Rule > 0 {
		r.Rule = "rule " + strconv.Itoa(d.Rule)
	}
	if r.Org == "" {
		r.Org = d.OrgID
	}
	if d.ShadowAction != "" {
		rule := "the default"
		if d.ShadowRule > 0 {
			rule = "rule " + strconv.Itoa(d.ShadowRule)
		}
		r.Shadow = fmt.Sprintf("version %d would have decided %s (%s): %s", d.ShadowVersion, d.ShadowAction, rule, d.ShadowReason)
	}
	return r
}

func (h *Decisions) show(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	orgID := v.Org.ID
	if v.User.PlatformAdmin {
		orgID = ""
	}
	d, err := h.Store.Decision(ctx, orgID, c.Param("id"))
	if err != nil {
		return err
	}
	slugs, err := h.orgSlugs(ctx, []store.Decision{d})
	if err != nil {
		return err
	}
	r := decisionRow(d, slugs)
	// The app may be another organization's, shared: link it on its owner.
	appOwner := ""
	if d.ClientID != "" {
		if cl, err := h.Store.LookupClient(ctx, d.ClientID); err == nil {
			switch {
			case cl.OrgID == v.Org.ID:
				appOwner = v.Org.Slug
			case v.User.PlatformAdmin: // only they may open another organization's app
				if owner, err := h.Store.OrgSlugs(ctx, []string{cl.OrgID}); err == nil {
					appOwner = owner[cl.OrgID]
				}
			}
		}
	}
	return render(c, http.StatusOK, views.DecisionDetail(h.Pages.Page(c, "Decision "+d.ID), r, decisionLinks(v, d, slugs[d.OrgID], appOwner),
		policyeditor.IP2LocationAttributionHTML))
}

// csv exports the filtered log. Cells that a spreadsheet would read as a
// formula are prefixed with a quote.
func (h *Decisions) csv(c echo.Context) error {
	ctx := c.Request().Context()
	f, fp, err := h.filter(c)
	if err != nil {
		return err
	}
	if len(fp.Errors) > 0 {
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "The filter is not valid."}
	}
	f.Limit = 5000
	ds, err := h.Store.Decisions(ctx, f)
	if err != nil {
		return err
	}
	slugs, err := h.orgSlugs(ctx, ds)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="decisions.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "time", "point", "org", "subject", "client_id", "policy", "version", "rule", "action", "reason", "context"})
	for _, d := range ds {
		r := decisionRow(d, slugs)
		cw.Write([]string{r.ID, d.At.UTC().Format(time.RFC3339), r.Point, safeCell(r.Org), safeCell(r.Subject), safeCell(r.Client),
			safeCell(r.Policy), strconv.Itoa(r.Version), r.Rule, r.Action, safeCell(r.Reason), safeCell(r.Context)})
	}
	cw.Flush()
	return cw.Error()
}

func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func urlPathEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// charts counts the decisions of the viewer's scope (orgID; "" is every
// organization, for platform admins) over the last 24 hours by hour or,
// with ?span=30d, the last 30 days by day.
func (h *Decisions) charts(c echo.Context, orgID string) (*views.DecisionCharts, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	span, bucket, n, label := "24h", time.Hour, 24, "15:04"
	if c.QueryParam("span") == "30d" {
		span, bucket, n, label = "30d", 24*time.Hour, 30, "01-02"
	}
	key := orgID + "\x00" + span
	h.chartsMu.Lock()
	cached, ok := h.chartsCache[key]
	h.chartsMu.Unlock()
	if ok && now().Sub(cached.at) < chartsFresh {
		return cached.charts, nil
	}
	until := now().UTC().Truncate(bucket).Add(bucket) // the current bucket included
	from := until.Add(-time.Duration(n) * bucket)
	st, err := h.Store.DecisionStats(c.Request().Context(), store.DecisionFilter{OrgID: orgID, From: from, Until: until}, bucket)
	if err != nil {
		return nil, err
	}
	out := &views.DecisionCharts{Span: span, Timeline: views.BarChart{ID: "decisions-timeline",
		Title: "Decisions per " + map[string]string{"24h": "hour", "30d": "day"}[span], Series: []string{"permit", "challenge", "deny"}}}
	for i, b := range st.Buckets {
		out.Timeline.Bars = append(out.Timeline.Bars, views.ChartBar{Label: b.Start.Format(label), ShowLabel: i%6 == 0,
			Title:  b.Start.Format("2006-01-02 15:04") + ": " + strconv.Itoa(b.Permit) + " permit, " + strconv.Itoa(b.Challenge) + " challenge, " + strconv.Itoa(b.Deny) + " deny",
			Permit: b.Permit, Challenge: b.Challenge, Deny: b.Deny})
	}
	for _, g := range st.ByPolicy[:min(len(st.ByPolicy), 10)] {
		name := g.Name
		if g.Key == "" {
			name = "no policy"
		} else if name == "" {
			name = g.Key
		}
		out.ByPolicy = append(out.ByPolicy, views.GroupBar{Name: name, Permit: g.Permit, Challenge: g.Challenge, Deny: g.Deny})
	}
	for _, g := range st.ByApp[:min(len(st.ByApp), 10)] {
		name, href := g.Key, "/decisions?client="+url.QueryEscape(g.Key)
		if g.Key == "" {
			name, href = "no app", ""
		}
		out.ByApp = append(out.ByApp, views.GroupBar{Name: name, Href: href, Permit: g.Permit, Challenge: g.Challenge, Deny: g.Deny})
	}
	for _, r := range st.DenyReasons {
		p := r.PolicyName
		if p == "" {
			p = r.PolicyID
		}
		out.DenyReasons = append(out.DenyReasons, views.DenyReasonRow{Reason: r.Reason, Policy: p, Count: r.Count})
	}
	h.chartsMu.Lock()
	if h.chartsCache == nil || len(h.chartsCache) > 1000 {
		h.chartsCache = map[string]cachedCharts{}
	}
	h.chartsCache[key] = cachedCharts{at: now(), charts: out}
	h.chartsMu.Unlock()
	return out, nil
}

// decisionLinks links a decision to what it is about, on the pages the
// viewer may open: a platform admin reaches the policy version, the
// replay, and the user and app through the organizations' pages (?org=);
// an org admin the user and app of their own organization. appOwner is the
// slug of the app's organization when the viewer may open it, else "".
func decisionLinks(v *Viewer, d store.Decision, orgSlug, appOwner string) views.DecisionLinks {
	var l views.DecisionLinks
	scope := ""
	if v.User.PlatformAdmin {
		if orgSlug != "" && orgSlug != v.Org.Slug {
			scope = "&org=" + url.QueryEscape(orgSlug)
		}
		if d.PolicyID != "" {
			l.Version = "/admin/policies/" + url.PathEscape(d.PolicyID) + "/versions#v" + strconv.Itoa(d.PolicyVersion)
			l.Replay = "/admin/policies/" + url.PathEscape(d.PolicyID) + "?replay=" + url.QueryEscape(d.ID)
		}
	}
	if d.UserID != "" && d.Subject != "" && (v.User.PlatformAdmin || d.OrgID == v.Org.ID) {
		l.User = "/org/members?q=" + url.QueryEscape(d.Subject) + scope
	}
	if appOwner != "" {
		l.App = "/apps/" + url.PathEscape(d.ClientID)
		if appOwner != v.Org.Slug {
			l.App += "?org=" + url.QueryEscape(appOwner)
		}
	}
	return l
}

package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// Audit serves the audit log: an org admin sees their own organization's
// events, a platform admin everyone's. It filters by actor, action and
// date, shows targets by name, and exports what it shows as CSV.
type Audit struct {
	Store *store.Store
	Pages *Pages
}

func auditReaders(v *Viewer) bool { return v.IsOrgAdmin() || v.User.PlatformAdmin }

// Mount registers the routes.
func (h *Audit) Mount(g *echo.Group) {
	h.Pages.AddNav("Audit log", "/audit", auditReaders)
	g.GET("/audit", h.list, requireUser, requireRole(auditReaders))
	g.GET("/audit/export.csv", h.csv, requireUser, requireRole(auditReaders))
}

// auditCSVMax bounds one export.
const auditCSVMax = 10000

var auditActionRE = regexp.MustCompile(`^[a-z0-9_.:-]{1,100}$`)

// auditFilter reads the filter from the query. The scope is decided here
// from who asks, never from the query: an org admin's is always their own
// organization.
func (h *Audit) auditFilter(c echo.Context) (orgID string, q store.AuditQuery, props views.AuditProps, err error) {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	props = views.AuditProps{AllOrgs: v.User.PlatformAdmin, Errors: views.FieldErrors{}}
	orgID = v.Org.ID
	if v.User.PlatformAdmin {
		orgID = ""
		if slug := c.QueryParam("org"); slug != "" {
			o, err := h.Store.OrganizationBySlug(ctx, slug)
			if err != nil {
				return "", q, props, err
			}
			orgID, props.OrgSlug = o.ID, o.Slug
		}
	}
	props.Action = strings.TrimSpace(c.QueryParam("action"))
	if props.Action != "" {
		if auditActionRE.MatchString(props.Action) {
			q.Action = props.Action
		} else {
			props.Errors["action"] = "An action is lower-case letters, digits and . _ : - (such as signin. or client.create)."
		}
	}
	day := func(field string) time.Time {
		s := strings.TrimSpace(c.QueryParam(field))
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			props.Errors[field] = "Enter a date as YYYY-MM-DD."
			return time.Time{}
		}
		return t
	}
	props.From, props.To = c.QueryParam("from"), c.QueryParam("to")
	q.From = day("from")
	if to := day("to"); !to.IsZero() {
		q.To = to.Add(24 * time.Hour) // the whole of the last day
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		props.Errors["to"] = "The end date is before the start date."
	}
	return orgID, q, props, nil
}

func (h *Audit) list(c echo.Context) error {
	ctx := c.Request().Context()
	orgID, q, props, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	page := pageOf(c)
	props.Q = page.Q
	if len(props.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.AuditLog(h.Pages.Page(c, "Audit log"), props))
	}
	events, info, err := h.Store.AuditPageWhere(ctx, orgID, page, q)
	if err != nil {
		return err
	}
	props.Pager = pagerOf(c, "/audit", info)
	export := c.QueryParams()
	export.Del("after")
	export.Del("before")
	props.ExportURL = "/audit/export.csv?" + export.Encode()
	names := &targetNames{st: h.Store, cache: map[string]string{}}
	slugs, err := h.slugs(ctx, props.AllOrgs, events)
	if err != nil {
		return err
	}
	for _, e := range events {
		props.Rows = append(props.Rows, views.AuditRow{At: e.At.UTC().Format("2006-01-02 15:04:05"), Org: slugs[e.OrgID],
			Actor: e.Actor, Action: e.Action, TargetType: e.TargetType, Target: names.of(ctx, e), TargetID: e.TargetID,
			Before: indentJSON(e.Before), After: indentJSON(e.After)})
	}
	return render(c, http.StatusOK, views.AuditLog(h.Pages.Page(c, "Audit log"), props))
}

func (h *Audit) slugs(ctx context.Context, all bool, events []store.AuditEvent) (map[string]string, error) {
	if !all {
		return map[string]string{}, nil
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.OrgID
	}
	return h.Store.OrgSlugs(ctx, ids)
}

// csv exports the filtered log, newest first, up to auditCSVMax events.
// Every cell a spreadsheet could read as a formula is prefixed with a
// quote (safeCell).
func (h *Audit) csv(c echo.Context) error {
	ctx := c.Request().Context()
	orgID, q, props, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	if len(props.Errors) > 0 {
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "The filter is not valid."}
	}
	page := pageOf(c)
	page.After, page.Before, page.Limit = "", "", store.MaxPageSize
	var all []store.AuditEvent
	for len(all) < auditCSVMax {
		events, info, err := h.Store.AuditPageWhere(ctx, orgID, page, q)
		if err != nil {
			return err
		}
		all = append(all, events...)
		if info.Next == "" {
			break
		}
		page.After = info.Next
	}
	if len(all) > auditCSVMax {
		all = all[:auditCSVMax]
	}
	slugs, err := h.slugs(ctx, true, all)
	if err != nil {
		return err
	}
	names := &targetNames{st: h.Store, cache: map[string]string{}}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="audit.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "org", "actor", "action", "target_type", "target_id", "target", "before", "after"})
	for _, e := range all {
		cw.Write([]string{e.At.UTC().Format(time.RFC3339), safeCell(slugs[e.OrgID]), safeCell(e.Actor), safeCell(e.Action),
			safeCell(e.TargetType), safeCell(e.TargetID), safeCell(names.of(ctx, e)), safeCell(string(e.Before)), safeCell(string(e.After))})
	}
	cw.Flush()
	return cw.Error()
}

// targetNames finds what an event's target is called now (a user's name
// and email, an app's or a policy's name), once per target per page. A
// target that no longer exists, or of a kind without a name, shows its ID.
type targetNames struct {
	st    *store.Store
	cache map[string]string
}

func (n *targetNames) of(ctx context.Context, e store.AuditEvent) string {
	key := e.TargetType + "\x00" + e.OrgID + "\x00" + e.TargetID
	if name, ok := n.cache[key]; ok {
		return name
	}
	name, err := n.lookup(ctx, e)
	if err != nil || name == "" {
		name = e.TargetID
	}
	n.cache[key] = name
	return name
}

func (n *targetNames) lookup(ctx context.Context, e store.AuditEvent) (string, error) {
	switch e.TargetType {
	case "user":
		u, err := n.st.UserByID(ctx, e.TargetID)
		if err != nil {
			return "", err
		}
		if u.Name == "" {
			return u.Email, nil
		}
		return u.Name + " <" + u.Email + ">", nil
	case "organization":
		o, err := n.st.Organization(ctx, e.TargetID)
		return o.Name, err
	case "client":
		if e.OrgID == "" {
			return "", errors.New("no organization")
		}
		cl, err := n.st.ClientByClientID(ctx, e.OrgID, e.TargetID)
		return cl.Name, err
	case "policy":
		p, err := n.st.Policy(ctx, e.TargetID)
		return p.Name, err
	case "group":
		g, err := n.st.Group(ctx, e.OrgID, e.TargetID)
		return g.Name, err
	case "connection":
		x, err := n.st.Connection(ctx, e.OrgID, e.TargetID)
		return x.Name, err
	}
	return "", nil
}

// indentJSON pretty-prints a stored JSON value for reading.
func indentJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

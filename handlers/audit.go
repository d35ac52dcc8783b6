package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// Audit serves the audit log: an org admin sees their own organization's
// events, a platform admin everyone's.
type Audit struct {
	Store *store.Store
	Pages *Pages
}

func auditReaders(v *Viewer) bool { return v.IsOrgAdmin() || v.User.PlatformAdmin }

// Mount registers the route.
func (h *Audit) Mount(g *echo.Group) {
	h.Pages.AddNav("Audit log", "/audit", auditReaders)
	g.GET("/audit", h.list, requireUser, requireRole(auditReaders))
}

func (h *Audit) list(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	props := views.AuditProps{AllOrgs: v.User.PlatformAdmin}
	// The scope is decided here from who asks, never from the query: an
	// org admin's filter is always their own organization.
	orgID := v.Org.ID
	if v.User.PlatformAdmin {
		orgID = ""
		if slug := c.QueryParam("org"); slug != "" {
			o, err := h.Store.OrganizationBySlug(ctx, slug)
			if err != nil {
				return err
			}
			orgID, props.OrgSlug = o.ID, o.Slug
		}
	}
	page := pageOf(c)
	events, info, err := h.Store.AuditPage(ctx, orgID, page)
	if err != nil {
		return err
	}
	props.Q, props.Pager = page.Q, pagerOf(c, "/audit", info)
	slugs := map[string]string{}
	if props.AllOrgs {
		ids := make([]string, len(events))
		for i, e := range events {
			ids[i] = e.OrgID
		}
		if slugs, err = h.Store.OrgSlugs(ctx, ids); err != nil {
			return err
		}
	}
	for _, e := range events {
		props.Rows = append(props.Rows, views.AuditRow{At: e.At.UTC().Format("2006-01-02 15:04:05"), Org: slugs[e.OrgID],
			Actor: e.Actor, Action: e.Action, Target: e.TargetType + " " + e.TargetID,
			Before: indentJSON(e.Before), After: indentJSON(e.After)})
	}
	return render(c, http.StatusOK, views.AuditLog(h.Pages.Page(c, "Audit log"), props))
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

package handlers

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// scopedPrefixes are the organization-administration pages that work on
// "the viewer's organization": members and invitations, groups, sign-in
// security, SCIM, sign-in connections and apps.
var scopedPrefixes = []string{"/org/", "/connections", "/apps"}

func isScopedPath(p string) bool {
	for _, pre := range scopedPrefixes {
		if p == strings.TrimSuffix(pre, "/") || strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// orgScope lets a platform admin use an organization's administration pages
// on that organization: with ?org=slug on one of those pages, the request
// runs with the viewer's organization replaced by the named one (and the
// admin role in it), so every handler below keeps its own-organization
// scoping and simply works on the chosen one. Links, forms and redirects of
// those pages carry the parameter on (views.Scoped, and the Location
// rewrite below).
//
// Anyone else naming an organization other than their own gets 404: the
// parameter never widens what a partner admin may touch.
func orgScope(st *store.Store) echo.MiddlewareFunc {
	var orgs scopedOrgs
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			slug := strings.TrimSpace(c.QueryParam("org"))
			v := viewerFrom(c)
			if slug == "" || v == nil || !isScopedPath(r.URL.Path) {
				return next(c)
			}
			if slug == v.Org.Slug {
				return next(c)
			}
			if !v.User.PlatformAdmin {
				return echo.NewHTTPError(http.StatusNotFound)
			}
			org, err := orgs.get(r.Context(), st, slug)
			if err != nil {
				return err
			}
			scoped := *v
			scoped.Org = org
			scoped.User.Role = store.RoleAdmin
			c.Set(viewerKey, &scoped)
			c.SetRequest(r.WithContext(views.WithOrgScope(r.Context(), views.OrgScope{Slug: org.Slug, Name: org.Name})))
			res := c.Response()
			res.Before(func() {
				// Redirects back into the scoped pages stay on the organization.
				if loc := res.Header().Get(echo.HeaderLocation); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") &&
					isScopedPath(strings.SplitN(loc, "?", 2)[0]) {
					res.Header().Set(echo.HeaderLocation, views.Scoped(c.Request().Context(), loc))
				}
			})
			return next(c)
		}
	}
}

// scopedOrgs caches the organizations platform admins scope pages to, by
// slug, as of one data version of the store (organizations notify, so a
// rename or suspension anywhere is seen by the next request). Bounded: when
// full, or at a newer version, it starts over.
type scopedOrgs struct {
	mu  sync.RWMutex
	ver int64
	m   map[string]store.Organization
}

const maxScopedOrgs = 1024

func (c *scopedOrgs) get(ctx context.Context, st *store.Store, slug string) (store.Organization, error) {
	ver, verr := st.DataVersion(ctx)
	if verr == nil {
		c.mu.RLock()
		org, ok := c.m[slug]
		hit := ok && c.ver == ver
		c.mu.RUnlock()
		if hit {
			return org, nil
		}
	}
	org, err := st.OrganizationBySlug(ctx, slug)
	if err != nil || verr != nil {
		return org, err
	}
	c.mu.Lock()
	if c.m == nil || ver > c.ver || len(c.m) >= maxScopedOrgs {
		c.m, c.ver = map[string]store.Organization{}, ver
	}
	if ver == c.ver {
		c.m[slug] = org
	}
	c.mu.Unlock()
	return org, nil
}

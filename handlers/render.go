package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"portico/views"
)

// render writes a component with status. It renders into a buffer first, so
// a failure half-way produces an error page rather than half a page. The
// buffer comes from a pool and the page goes out with its length, in one
// write: no chunked encoding, no copy into the response's own buffer.
func render(c echo.Context, status int, comp templ.Component) error {
	buf := renderBuffers.Get().(*bytes.Buffer)
	defer putRenderBuffer(buf)
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	res := c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	res.WriteHeader(status)
	_, err := res.Write(buf.Bytes())
	return err
}

// renderBuffers holds render's buffers between requests.
var renderBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRender is the largest buffer kept for reuse: one huge page must
// not pin its memory for good.
const maxPooledRender = 256 << 10

func putRenderBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledRender {
		return
	}
	b.Reset()
	renderBuffers.Put(b)
}

// navEntry is one item of the top navigation and who may see it.
type navEntry struct {
	label string
	href  string
	allow func(v *Viewer) bool
}

// Pages builds the layout's props for a request. Features add their
// navigation entries when they are mounted.
type Pages struct {
	nav []navEntry
	// navs keeps the drawn navigation per combination of entries shown and
	// entries active (navKey): there are a handful of roles and pages.
	navMu sync.RWMutex
	navs  map[navKey]*views.Nav
}

// navKey says which entries a viewer sees (bit i: nav[i]) and which of
// them are active on the current page.
type navKey struct{ shown, active uint64 }

// maxNavs bounds Pages.navs; past it the cache starts over.
const maxNavs = 1024

// AddNav adds a navigation entry shown to the viewers allow accepts.
func (p *Pages) AddNav(label, href string, allow func(v *Viewer) bool) {
	p.nav = append(p.nav, navEntry{label: label, href: href, allow: allow})
}

// Page returns the layout props for the current request.
func (p *Pages) Page(c echo.Context, title string) views.Page {
	pg := views.Page{Title: title, CSRF: csrfToken(c)}
	v := viewerFrom(c)
	if v == nil {
		return pg
	}
	pg.User = &views.Viewer{Name: v.User.Name, Email: v.User.Email, Org: v.Org.Name, Role: string(v.User.Role)}
	path := c.Request().URL.Path
	var key navKey
	for i, n := range p.nav {
		if i >= 64 {
			break // more entries than the key holds: drawn every time below
		}
		if n.allow != nil && !n.allow(v) {
			continue
		}
		key.shown |= 1 << i
		if navActive(path, n.href) {
			key.active |= 1 << i
		}
	}
	cacheable := len(p.nav) <= 64
	if cacheable {
		p.navMu.RLock()
		pg.Nav = p.navs[key]
		p.navMu.RUnlock()
		if pg.Nav != nil {
			return pg
		}
	}
	var items []views.NavItem
	for _, n := range p.nav {
		if n.allow != nil && !n.allow(v) {
			continue
		}
		items = append(items, views.NavItem{Label: n.label, Href: n.href, Active: navActive(path, n.href)})
	}
	nav, err := views.NewNav(groupNav(items))
	if err != nil {
		// Drawing fixed labels and links cannot fail; should it ever, the
		// page goes without a navigation rather than not at all.
		return pg
	}
	pg.Nav = nav
	if cacheable {
		p.navMu.Lock()
		if p.navs == nil || len(p.navs) >= maxNavs {
			p.navs = map[navKey]*views.Nav{}
		}
		p.navs[key] = nav
		p.navMu.Unlock()
	}
	return pg
}

// navActive reports whether the entry at href is the current page (or its
// section) at path.
func navActive(path, href string) bool {
	return path == href || (href != "/" && strings.HasPrefix(path, href+"/"))
}

// The navigation is grouped by what the viewer is there as, in this order.
// A page is placed by its path, so a feature's AddNav needs no group.
var navGroups = []struct {
	label    string
	prefixes []string
}{
	{"You", []string{"/account"}},
	{"Developer", []string{"/apps", "/apis"}},
	{"Organization", []string{"/org/", "/connections", "/issuers", "/decisions", "/audit", "/scim", "/api-tokens"}},
	{"Platform", []string{"/admin/", "/platform/"}},
}

// groupNav sorts items into navGroups; the dashboard ("/") and anything
// unplaced go first, with the viewer's own pages.
func groupNav(items []views.NavItem) []views.NavGroup {
	out := make([]views.NavGroup, len(navGroups))
	for i, g := range navGroups {
		out[i].Label = g.label
	}
	for _, it := range items {
		placed := 0
		for i, g := range navGroups {
			for _, pre := range g.prefixes {
				if it.Href == strings.TrimSuffix(pre, "/") || strings.HasPrefix(it.Href, pre) {
					placed = i
				}
			}
		}
		out[placed].Items = append(out[placed].Items, it)
		out[placed].Active = out[placed].Active || it.Active
	}
	groups := out[:0]
	for _, g := range out {
		if len(g.Items) > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}

// wantsJSON reports whether the client asked for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") ||
		strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

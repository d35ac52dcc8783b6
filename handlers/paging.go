package handlers

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/store"
	"portico/views"
)

// pageOf reads a list page request from the query: q (a prefix to search
// for), after or before (cursors from the page's links) and limit.
func pageOf(c echo.Context) store.Page { return pageNamed(c, "") }

// pageNamed is pageOf for a second list on the same page, whose parameters
// carry a prefix (inv_after…).
func pageNamed(c echo.Context, prefix string) store.Page {
	p := store.Page{Q: strings.TrimSpace(c.QueryParam(prefix + "q")), After: c.QueryParam(prefix + "after"),
		Before: c.QueryParam(prefix + "before")}
	if n, err := strconv.Atoi(c.QueryParam(prefix + "limit")); err == nil {
		p.Limit = n
	}
	if len(p.Q) > 200 {
		p.Q = p.Q[:200]
	}
	return p
}

// pagerOf links the neighbouring pages of path, keeping the request's other
// query parameters (filters, q, limit).
func pagerOf(c echo.Context, path string, info store.PageInfo) views.Pager {
	return pagerNamed(c, path, "", info)
}

// pagerNamed is pagerOf for the list whose parameters carry prefix.
func pagerNamed(c echo.Context, path, prefix string, info store.PageInfo) views.Pager {
	link := func(param, cursor string) string {
		if cursor == "" {
			return ""
		}
		q := url.Values{}
		for k, v := range c.QueryParams() {
			if k != prefix+"after" && k != prefix+"before" && k != "done" {
				q[k] = v
			}
		}
		q.Set(prefix+param, cursor)
		return path + "?" + q.Encode()
	}
	return views.Pager{Prev: link("before", info.Prev), Next: link("after", info.Next)}
}

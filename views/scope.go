package views

import (
	"context"
	"net/url"
	"strings"
)

type scopeKey struct{}

// OrgScope is the organization a platform admin is working on from that
// organization's page, when it is not their own.
type OrgScope struct {
	Slug string
	Name string
}

// WithOrgScope returns ctx carrying the organization the request works on,
// so the pages' links and forms stay on it.
func WithOrgScope(ctx context.Context, s OrgScope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopeOf returns the organization scope of ctx, if any.
func ScopeOf(ctx context.Context) (OrgScope, bool) {
	s, ok := ctx.Value(scopeKey{}).(OrgScope)
	return s, ok && s.Slug != ""
}

// Scoped adds the request's organization scope (?org=slug) to path, which
// may carry a query and a fragment already; without a scope it returns path.
func Scoped(ctx context.Context, path string) string {
	s, ok := ScopeOf(ctx)
	if !ok {
		return path
	}
	frag := ""
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path, frag = path[:i], path[i:]
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "org=" + url.QueryEscape(s.Slug) + frag
}

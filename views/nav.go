package views

import (
	"context"
	"io"
	"strings"
)

// Nav is the top navigation, drawn once: the links grouped by what the
// viewer is there as (their own apps and account, developer, organization
// admin, platform admin). It depends only on which links a viewer may see
// and which is the current page, so the caller keeps one Nav per such
// combination and every page reuses its HTML.
type Nav struct {
	html string
}

// NewNav draws groups.
func NewNav(groups []NavGroup) (*Nav, error) {
	var b strings.Builder
	if err := navBar(groups).Render(context.Background(), &b); err != nil {
		return nil, err
	}
	return &Nav{html: b.String()}, nil
}

// Render writes the navigation (Nav is a templ.Component); a nil Nav
// writes nothing.
func (n *Nav) Render(_ context.Context, w io.Writer) error {
	if n == nil {
		return nil
	}
	_, err := io.WriteString(w, n.html)
	return err
}

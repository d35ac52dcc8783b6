package views

// Page is what the layout needs on every page.
type Page struct {
	Title string
	// Nav is the navigation (NewNav); nil shows none.
	Nav   *Nav
	User  *Viewer // nil when nobody is signed in
	CSRF  string  // token for the sign-out form and any other form on the page
	Flash *Flash
	// Narrow centres a small card, for sign-in and error pages.
	Narrow bool
}

// NavGroup is one heading of the navigation and its links.
type NavGroup struct {
	Label  string
	Items  []NavItem
	Active bool // the current page is one of Items
}

// NavItem is one link of the top navigation.
type NavItem struct {
	Label  string
	Href   string
	Active bool
}

// Viewer is the signed-in person as the layout shows them.
type Viewer struct {
	Name  string
	Email string
	Org   string
	Role  string
}

// Flash is a one-line message at the top of a page.
type Flash struct {
	Kind    string // "ok", "warn" or "error"
	Message string
}

// FieldErrors maps a form field's name to the message shown beside it.
type FieldErrors map[string]string

// Has reports whether field has an error.
func (f FieldErrors) Has(field string) bool { _, ok := f[field]; return ok }

func ariaInvalid(errs FieldErrors, field string) string {
	if errs.Has(field) {
		return "true"
	}
	return "false"
}

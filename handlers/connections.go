package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/federation"
	"portico/netguard"
	"portico/store"
	"portico/views"
)

// Connections lets org admins manage their own organization's identity
// connections, and platform admins restrict which types an organization
// may add. Every route is scoped to the viewer's organization in the query:
// another organization's connection ID answers 404.
type Connections struct {
	Store      *store.Store
	Pages      *Pages
	Service    *federation.Service
	Connectors *federation.Cache
	Log        *slog.Logger
	BaseURL    string
}

// Mount registers the routes.
func (h *Connections) Mount(g *echo.Group) {
	h.Pages.AddNav("Sign-in connections", "/connections", orgAdmins)
	a := g.Group("/connections", requireUser, requireRole(orgAdmins))
	a.GET("", h.list)
	a.GET("/new", h.newForm)
	a.POST("", h.create)
	a.GET("/:id", h.edit)
	a.POST("/:id", h.update)
	a.POST("/:id/test", h.test)
	a.POST("/:id/delete", h.delete)
	p := g.Group("/platform/connection-types", requireUser, requireRole(platformAdmins))
	p.GET("/:org", h.showTypes)
	p.POST("/:org", h.saveTypes)
}

func (h *Connections) typeLabel(name string) string {
	if t, ok := h.Service.Registry.Type(name); ok {
		return t.Label
	}
	return name
}

func (h *Connections) list(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	rows, err := h.Store.Connections(ctx, v.Org.ID)
	if err != nil {
		return err
	}
	props := views.ConnectionsProps{OrgName: v.Org.Name}
	for _, x := range rows {
		props.Rows = append(props.Rows, views.ConnectionRow{ID: x.ID, Name: x.Name, TypeLabel: h.typeLabel(x.Type), Enabled: x.Enabled})
	}
	types, err := h.Service.AllowedTypes(ctx, v.Org.ID)
	if err != nil {
		return err
	}
	for _, t := range types {
		props.Types = append(props.Types, views.ConnectionType{Name: t.Name, Label: t.Label})
	}
	p := h.Pages.Page(c, "Sign-in connections")
	p.Flash = doneFlash(c, map[string]string{"deleted": "The connection was deleted, with the links of the accounts that signed in through it."})
	return render(c, http.StatusOK, views.Connections(p, props))
}

// formProps builds the form for type t with the current (or submitted)
// values.
func (h *Connections) formProps(t federation.Type, x store.Connection, settings map[string]string) views.ConnectionFormProps {
	f := views.ConnectionFormProps{ID: x.ID, Type: t.Name, TypeLabel: t.Label, Name: x.Name, Enabled: x.Enabled,
		ShowOnLogin: x.ShowOnLogin, SecretLabel: t.Secret, HasSecret: len(x.Secret) > 0}
	for _, fl := range t.Fields {
		f.Fields = append(f.Fields, views.ConnectionField{Key: fl.Key, Label: fl.Label, Help: fl.Help, Required: fl.Required,
			Multiline: fl.Multiline, Bool: fl.Bool, Value: settings[fl.Key]})
	}
	if x.ID != "" {
		u := ConnectionUpstreamURLs(h.BaseURL, x)
		f.RedirectURI, f.MetadataURL, f.ACSURL = u.RedirectURI, u.MetadataURL, u.ACSURL
	}
	return f
}

// page renders the form with who the connection affects: the password
// accounts no connection has linked, and for an existing one the accounts
// linked through it.
func (h *Connections) page(c echo.Context, status int, f views.ConnectionFormProps) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	f.OrgName = v.Org.Name
	n, err := h.Store.UnlinkedPasswordUsers(ctx, v.Org.ID)
	if err != nil {
		return err
	}
	f.PasswordUsers = n
	if f.ID != "" {
		impact, err := h.Store.ConnectionImpact(ctx, v.Org.ID, f.ID)
		if err != nil {
			return err
		}
		f.Linked, f.Stranded = impact.Linked, impact.Stranded
	}
	return render(c, status, views.ConnectionForm(h.Pages.Page(c, "Connection"), f))
}

// delete removes a connection and its links (the page stated what that
// does to the accounts linked through it).
func (h *Connections) delete(c echo.Context) error {
	v := viewerFrom(c)
	if err := h.Service.Delete(c.Request().Context(), actorOf(v), v.Org.ID, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/connections?done=deleted")
}

func (h *Connections) newForm(c echo.Context) error {
	t, ok := h.Service.Registry.Type(c.QueryParam("type"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	// A type the platform admin took away is not offered as a blank form
	// either; Create refuses it regardless.
	if allowed, err := h.Service.TypeAllowed(c.Request().Context(), viewerFrom(c).Org.ID, t.Name); err != nil {
		return err
	} else if !allowed {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	return h.page(c, http.StatusOK, h.formProps(t, store.Connection{Enabled: true}, map[string]string{}))
}

// input parses the form for type t; settings are "s_"-prefixed fields.
func input(c echo.Context, t federation.Type) federation.Input {
	name := c.FormValue("name")
	enabled, show := c.FormValue("enabled") == "on", c.FormValue("show_on_login") == "on"
	in := federation.Input{Type: t.Name, Name: &name, Enabled: &enabled, ShowOnLogin: &show, Settings: map[string]string{}}
	for _, fl := range t.Fields {
		in.Settings[fl.Key] = c.FormValue("s_" + fl.Key)
		if fl.Bool {
			// An unticked checkbox sends nothing: that is a "no".
			in.Settings[fl.Key] = map[bool]string{true: "yes", false: "no"}[c.FormValue("s_"+fl.Key) == "on"]
		}
	}
	if s := c.FormValue("secret"); s != "" {
		in.Secret = &s
	}
	return in
}

func (h *Connections) create(c echo.Context) error {
	v := viewerFrom(c)
	t, ok := h.Service.Registry.Type(c.FormValue("type"))
	if !ok {
		return echo.NewHTTPError(http.StatusUnprocessableEntity)
	}
	in := input(c, t)
	x, err := h.Service.Create(c.Request().Context(), actorOf(v), v.Org.ID, in)
	if fe, ok := federation.IsFieldErrors(err); ok {
		f := h.formProps(t, store.Connection{Name: *in.Name, Enabled: *in.Enabled, ShowOnLogin: *in.ShowOnLogin}, in.Settings)
		f.Errors = views.FieldErrors(fe)
		return h.page(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/connections/"+x.ID)
}

// load returns a connection of the viewer's organization and its type.
func (h *Connections) load(c echo.Context) (store.Connection, federation.Type, federation.Config, error) {
	v := viewerFrom(c)
	x, err := h.Store.Connection(c.Request().Context(), v.Org.ID, c.Param("id"))
	if err != nil {
		return x, federation.Type{}, nil, err
	}
	t, ok := h.Service.Registry.Type(x.Type)
	if !ok {
		return x, t, nil, federation.ErrUnknownType
	}
	cfg, err := h.Service.Registry.Decode(x.Type, x.Config)
	return x, t, cfg, err
}

func (h *Connections) edit(c echo.Context) error {
	x, t, cfg, err := h.load(c)
	if err != nil {
		return err
	}
	return h.page(c, http.StatusOK, h.formProps(t, x, cfg.Settings()))
}

func (h *Connections) update(c echo.Context) error {
	v := viewerFrom(c)
	x, t, _, err := h.load(c)
	if err != nil {
		return err
	}
	in := input(c, t)
	_, err = h.Service.Update(c.Request().Context(), actorOf(v), v.Org.ID, x.ID, in)
	if fe, ok := federation.IsFieldErrors(err); ok {
		x.Name, x.Enabled, x.ShowOnLogin = *in.Name, *in.Enabled, *in.ShowOnLogin
		f := h.formProps(t, x, in.Settings)
		f.Errors = views.FieldErrors(fe)
		return h.page(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/connections/"+x.ID)
}

// test opens the connection afresh and reports, in a fixed message,
// whether it works; the cause goes to the log.
func (h *Connections) test(c echo.Context) error {
	x, t, cfg, err := h.load(c)
	if err != nil {
		return err
	}
	f := h.formProps(t, x, cfg.Settings())
	conn, err := h.Connectors.OpenFresh(c.Request().Context(), x)
	if err == nil {
		if tt, ok := conn.(federation.Tester); ok {
			err = tt.Test(c.Request().Context())
		}
	}
	var refused *netguard.RefusedError
	switch {
	case errors.As(err, &refused):
		// Say what was refused and why: the address is where the admin's
		// own URL led, and nothing was fetched from it.
		h.Log.Info("connection test refused by the upstream guard", "connection", x.ID, "err", err)
		f.TestResult = &views.Flash{Kind: "error", Message: "The connection does not work: " + refused.Error() + "."}
	case err != nil:
		h.Log.Info("connection test failed", "connection", x.ID, "err", err)
		msg := "The connection does not work: Portico could not load or use the identity provider's configuration. Check the URL and credentials."
		if why := federation.Explain(err); why != "" {
			msg = "The connection does not work. " + why
		}
		f.TestResult = &views.Flash{Kind: "error", Message: msg}
	default:
		f.TestResult = &views.Flash{Kind: "ok", Message: "The identity provider's configuration loaded. Try signing in to finish the test."}
	}
	return h.page(c, http.StatusOK, f)
}

func (h *Connections) showTypes(c echo.Context) error {
	ctx := c.Request().Context()
	org, err := h.Store.Organization(ctx, c.Param("org"))
	if err != nil {
		return err
	}
	allowed, restricted, err := h.Store.AllowedConnectionTypes(ctx, org.ID)
	if err != nil {
		return err
	}
	props := views.ConnectionTypesProps{OrgID: org.ID, OrgName: org.Name, Restricted: restricted}
	for _, t := range h.Service.Registry.Types() {
		ok := !restricted
		for _, a := range allowed {
			ok = ok || a == t.Name
		}
		props.Types = append(props.Types, views.ConnectionTypeChoice{Name: t.Name, Label: t.Label, Allowed: ok})
	}
	return render(c, http.StatusOK, views.ConnectionTypes(h.Pages.Page(c, "Connection types"), props))
}

func (h *Connections) saveTypes(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	org, err := h.Store.Organization(ctx, c.Param("org"))
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var types []string
	if c.FormValue("restrict") == "on" {
		types = []string{}
		for _, n := range form["types"] {
			if _, ok := h.Service.Registry.Type(n); !ok {
				return echo.NewHTTPError(http.StatusUnprocessableEntity)
			}
			types = append(types, n)
		}
	}
	err = h.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.SetAllowedConnectionTypes(ctx, org.ID, types); err != nil {
			return err
		}
		return tx.Audit(ctx, actorOf(v).Event(org.ID, "org.connection_types", "organization", org.ID), nil,
			map[string]any{"allowed": types})
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/platform/connection-types/"+org.ID)
}

package handlers

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/store"
	"portico/views"
)

// APIRegistrar is what the APIs pages need from the authorization server's
// registrar; orgID "" acts for the platform.
type APIRegistrar interface {
	CreateAPI(ctx context.Context, orgID string, actor authserver.Actor, in authserver.APIInput) (store.API, error)
	UpdateAPI(ctx context.Context, orgID, id string, actor authserver.Actor, in authserver.APIInput) (store.API, error)
	DeleteAPI(ctx context.Context, orgID, id string, actor authserver.Actor) error
	SetOrgClientMetadata(ctx context.Context, orgID string, actor authserver.Actor, allow bool) error
}

// metadataURLs is the optional ability of an OAuthServer to say where it
// publishes an API's protected resource metadata.
type metadataURLs interface {
	ResourceMetadataURL(apiID string) string
}

// APIs serves the APIs pages: platform admins manage every API (and
// register the platform's); an organization's admins manage their own.
// Every API is loaded through the viewer's scope, so another organization's
// API answers 404.
type APIs struct {
	Store     *store.Store
	Registrar APIRegistrar
	Pages     *Pages
	// Metadata, when set, gives the published metadata URL of an API.
	Metadata metadataURLs
}

func apiAdmins(v *Viewer) bool { return v.User.PlatformAdmin || v.IsOrgAdmin() }

// Mount registers the routes.
func (h *APIs) Mount(g *echo.Group) {
	h.Pages.AddNav("APIs", "/apis", apiAdmins)
	a := g.Group("/apis", requireUser, requireRole(apiAdmins))
	a.GET("", h.list)
	a.GET("/new", h.newForm)
	a.POST("", h.create)
	a.POST("/client-metadata", h.clientMetadata, requireRole(orgAdmins))
	a.GET("/:id", h.edit)
	a.POST("/:id", h.update)
	a.POST("/:id/delete", h.remove)
}

var apiFlash = map[string]string{
	"created":  "The API was registered.",
	"saved":    "The API was saved. Tokens issued from now on follow it.",
	"deleted":  "The API was deleted.",
	"metadata": "Your organization's choice about unregistered apps was saved.",
}

// scopeOf is the owner the viewer acts as: "" (the platform) for platform
// admins, else their organization.
func scopeOf(v *Viewer) string {
	if v.User.PlatformAdmin {
		return ""
	}
	return v.Org.ID
}

func (h *APIs) metadataURL(a store.API) string {
	if h.Metadata == nil || !a.PublishMetadata {
		return ""
	}
	return h.Metadata.ResourceMetadataURL(a.ID)
}

func (h *APIs) list(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	var list []store.API
	var err error
	if scopeOf(v) == "" {
		list, err = h.Store.APIs(ctx)
	} else {
		list, err = h.Store.OrgAPIs(ctx, v.Org.ID)
	}
	if err != nil {
		return err
	}
	props := views.APIListProps{Platform: scopeOf(v) == "", OrgAdmin: v.IsOrgAdmin()}
	names := map[string]string{}
	for _, a := range list {
		owner := "Platform"
		if a.OrgID != "" {
			if _, ok := names[a.OrgID]; !ok {
				if o, err := h.Store.Organization(ctx, a.OrgID); err == nil {
					names[a.OrgID] = o.Name
				}
			}
			owner = names[a.OrgID]
		}
		props.Rows = append(props.Rows, views.APIRow{ID: a.ID, Identifier: a.Identifier, Name: a.Name, Owner: owner,
			Scopes: a.ScopeNames(), RequireDPoP: a.RequireSenderConstrained, Publish: a.PublishMetadata, MetadataURL: h.metadataURL(a)})
	}
	if props.OrgAdmin {
		if props.AllowClientMetadata, err = h.Store.OrgAllowsClientMetadata(ctx, v.Org.ID); err != nil {
			return err
		}
	}
	p := h.Pages.Page(c, "APIs")
	p.Flash = doneFlash(c, apiFlash)
	return render(c, http.StatusOK, views.APIList(p, props))
}

func (h *APIs) renderEdit(c echo.Context, status int, props views.APIEditProps) error {
	ctx := c.Request().Context()
	props.Platform = scopeOf(viewerFrom(c)) == ""
	if props.Platform {
		plans, err := h.Store.Plans(ctx)
		if err != nil {
			return err
		}
		for _, pl := range plans {
			props.Plans = append(props.Plans, views.Choice{Value: pl.ID, Label: pl.Name})
		}
		orgs, err := h.Store.Organizations(ctx)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			props.Orgs = append(props.Orgs, views.Choice{Value: o.ID, Label: o.Name})
		}
	}
	title := "Register an API"
	if props.ID != "" {
		title = props.Form.Name
	}
	p := h.Pages.Page(c, title)
	p.Flash = doneFlash(c, apiFlash)
	return render(c, status, views.APIEdit(p, props))
}

func (h *APIs) newForm(c echo.Context) error {
	return h.renderEdit(c, http.StatusOK, views.APIEditProps{})
}

func (h *APIs) load(c echo.Context) (store.API, error) {
	a, err := h.Store.API(c.Request().Context(), scopeOf(viewerFrom(c)), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return a, echo.NewHTTPError(http.StatusNotFound)
	}
	return a, err
}

func (h *APIs) edit(c echo.Context) error {
	a, err := h.load(c)
	if err != nil {
		return err
	}
	f := views.APIForm{Identifier: a.Identifier, Name: a.Name, Description: a.Description,
		RequireDPoP: a.RequireSenderConstrained, Publish: a.PublishMetadata, AllowedPlans: a.AllowedPlans, AllowedOrgs: a.AllowedOrgs}
	var lines []string
	for _, sc := range a.Scopes {
		lines = append(lines, strings.TrimSpace(sc.Name+" "+sc.Description))
	}
	f.Scopes = strings.Join(lines, "\n")
	if a.TokenTTL > 0 {
		f.TokenLifetime = a.TokenTTL.String()
	}
	return h.renderEdit(c, http.StatusOK, views.APIEditProps{ID: a.ID, Form: f, MetadataURL: h.metadataURL(a)})
}

// readAPIForm parses the form; a lifetime that is not a duration is a
// field error before the registrar sees anything.
func readAPIForm(c echo.Context, platform bool) (views.APIForm, authserver.APIInput, views.FieldErrors) {
	form, _ := c.FormParams()
	f := views.APIForm{Identifier: strings.TrimSpace(c.FormValue("identifier")), Name: c.FormValue("name"),
		Description: c.FormValue("description"), Scopes: c.FormValue("scopes"),
		TokenLifetime: strings.TrimSpace(c.FormValue("token_lifetime")),
		RequireDPoP:   c.FormValue("require_dpop") == "on", Publish: c.FormValue("publish_metadata") == "on"}
	in := authserver.APIInput{Identifier: f.Identifier, Name: f.Name, Description: f.Description,
		RequireSenderConstrained: f.RequireDPoP, PublishMetadata: f.Publish}
	if platform {
		f.AllowedPlans, f.AllowedOrgs = form["allowed_plans"], form["allowed_orgs"]
		in.AllowedPlans, in.AllowedOrgs = f.AllowedPlans, f.AllowedOrgs
	}
	for _, line := range strings.Split(f.Scopes, "\n") {
		name, desc, _ := strings.Cut(strings.TrimSpace(line), " ")
		if name != "" {
			in.Scopes = append(in.Scopes, store.APIScope{Name: name, Description: strings.TrimSpace(desc)})
		}
	}
	errs := views.FieldErrors{}
	if f.TokenLifetime != "" {
		d, err := time.ParseDuration(f.TokenLifetime)
		if err != nil {
			errs["token_lifetime"] = "must be a duration such as 90s, 5m or 1h"
		}
		in.TokenLifetime = d
	}
	return f, in, errs
}

var apiIndexedField = regexp.MustCompile(`^(scopes|allowed_plans|allowed_orgs)\[(\d+)\]$`)

// apiErrors folds the registrar's field paths onto the form's inputs.
func apiErrors(err error, into views.FieldErrors) bool {
	var ve *authserver.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, fe := range ve.Fields {
		field, msg := fe.Field, fe.Message
		if m := apiIndexedField.FindStringSubmatch(field); m != nil {
			field = m[1]
			if field == "scopes" {
				msg = "line " + lineNumber(m[2]) + ": " + msg
			}
		}
		if prev, ok := into[field]; ok {
			msg = prev + "; " + msg
		}
		into[field] = msg
	}
	return true
}

func (h *APIs) create(c echo.Context) error {
	v := viewerFrom(c)
	f, in, errs := readAPIForm(c, scopeOf(v) == "")
	if len(errs) == 0 {
		_, err := h.Registrar.CreateAPI(c.Request().Context(), scopeOf(v), actorOf(v), in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/apis?done=created")
		}
		if !apiErrors(err, errs) {
			return err
		}
	}
	f.Errors = errs
	return h.renderEdit(c, http.StatusUnprocessableEntity, views.APIEditProps{Form: f})
}

func (h *APIs) update(c echo.Context) error {
	a, err := h.load(c)
	if err != nil {
		return err
	}
	v := viewerFrom(c)
	f, in, errs := readAPIForm(c, scopeOf(v) == "")
	if scopeOf(v) != "" { // an organization's form does not carry the allow lists
		in.AllowedPlans, in.AllowedOrgs = a.AllowedPlans, a.AllowedOrgs
	}
	if len(errs) == 0 {
		_, err := h.Registrar.UpdateAPI(c.Request().Context(), scopeOf(v), a.ID, actorOf(v), in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/apis/"+a.ID+"?done=saved")
		}
		if !apiErrors(err, errs) {
			return err
		}
	}
	f.Errors = errs
	return h.renderEdit(c, http.StatusUnprocessableEntity, views.APIEditProps{ID: a.ID, Form: f, MetadataURL: h.metadataURL(a)})
}

func (h *APIs) remove(c echo.Context) error {
	a, err := h.load(c)
	if err != nil {
		return err
	}
	v := viewerFrom(c)
	if err := h.Registrar.DeleteAPI(c.Request().Context(), scopeOf(v), a.ID, actorOf(v)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/apis?done=deleted")
}

func (h *APIs) clientMetadata(c echo.Context) error {
	v := viewerFrom(c)
	if err := h.Registrar.SetOrgClientMetadata(c.Request().Context(), v.Org.ID, actorOf(v), c.FormValue("allow") == "on"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/apis?done=metadata")
}

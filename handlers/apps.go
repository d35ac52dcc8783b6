package handlers

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// AppRegistrar is what the Apps pages need from client registration. The
// authorization server's *authserver.Registrar is it; the pages never write
// clients themselves, so the portal, the CLI and dynamic registration share
// one set of rules and one audit trail.
type AppRegistrar interface {
	Register(ctx context.Context, orgID string, actor authserver.Actor, in authserver.RegisterInput) (store.Client, string, error)
	Update(ctx context.Context, orgID, clientID string, actor authserver.Actor, in authserver.RegisterInput) (store.Client, error)
	SetEnabled(ctx context.Context, orgID, clientID string, actor authserver.Actor, enabled bool) (store.Client, error)
	Delete(ctx context.Context, orgID, clientID string, actor authserver.Actor) error
	RotateSecret(ctx context.Context, orgID, clientID string, actor authserver.Actor, grace time.Duration) (store.Client, string, error)
	RevokeSecret(ctx context.Context, orgID, clientID, secretID string, actor authserver.Actor) (store.Client, error)
	CreateRegistrationToken(ctx context.Context, orgID string, actor authserver.Actor, in authserver.RegistrationTokenInput) (store.RegistrationToken, string, error)
	RevokeRegistrationToken(ctx context.Context, orgID, id string, actor authserver.Actor) error
}

// Apps serves the developers' Apps pages. Every client is loaded through
// the viewer's organization (store.ClientByClientID(orgID, …)), so another
// organization's client ID answers 404.
type Apps struct {
	Store     *store.Store
	Registrar AppRegistrar
	Pages     *Pages
	Now       func() time.Time
	Issuer    string
	// Sealer holds new secrets for their one-time reveal (reveal.go).
	Sealer *store.Sealer
	// Policies attaches the access policy a platform admin picks at
	// registration.
	Policies *policyeditor.Service
}

// Mount registers the routes, all for developers and org admins.
func (h *Apps) Mount(g *echo.Group) {
	h.Pages.AddNav("Manage apps", "/apps", developers)
	a := g.Group("/apps", requireUser, requireRole(developers))
	a.GET("", h.list)
	a.GET("/new", h.newForm)
	a.POST("", h.create)
	a.POST("/registration-tokens", h.createRegToken)
	a.POST("/registration-tokens/:id/revoke", h.revokeRegToken)
	a.GET("/:client_id", h.show)
	a.POST("/:client_id", h.update)
	a.POST("/:client_id/rotate", h.rotate)
	a.POST("/:client_id/secrets/:secret_id/revoke", h.revokeSecret)
	a.POST("/:client_id/enable", h.enable)
	a.POST("/:client_id/disable", h.disable)
	a.POST("/:client_id/delete", h.delete)
	a.POST("/:client_id/first-party", h.setFirstParty)
	a.POST("/:client_id/share", h.share)
	a.POST("/:client_id/unshare", h.unshare)
}

var appFlash = map[string]string{
	"saved":          "The app was saved.",
	"enabled":        "The app is enabled.",
	"disabled":       "The app is disabled: it gets no tokens until it is enabled again.",
	"deleted":        "The app was deleted.",
	"secret_revoked": "The secret was revoked; it stopped working at once.",
	"token_revoked":  "The registration token was revoked.",
	"first_party":    "The app is first-party: people sign in to it without a consent page.",
	"third_party":    "The app is third-party: people are asked to allow it before it gets their data.",
	"shared":         "The app is shared: it is on those organizations' dashboards now.",
	"unshared":       "The share was withdrawn.",
}

func appActor(v *Viewer) authserver.Actor {
	return authserver.Actor{UserID: v.User.ID, Label: v.User.Email}
}

func (h *Apps) list(c echo.Context) error {
	props := views.AppsProps{TokenForm: views.RegTokenForm{TTL: "168h"}}
	if id := c.QueryParam("reveal"); id != "" {
		tok, found, err := takeReveal(c, h.Store, h.Sealer, h.Now(), id)
		if err != nil {
			return err
		}
		props.NewToken, props.RevealGone = tok, !found
	}
	return h.renderList(c, http.StatusOK, props)
}

func (h *Apps) renderList(c echo.Context, status int, props views.AppsProps) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	page := pageOf(c)
	clients, info, err := h.Store.ClientPage(ctx, v.Org.ID, page, false)
	if err != nil {
		return err
	}
	props.Q, props.Pager = page.Q, pagerOf(c, "/apps", info)
	for _, cl := range clients {
		props.Apps = append(props.Apps, views.AppRow{ClientID: cl.ClientID, Name: cl.Name, Type: string(cl.Type),
			Enabled: cl.Enabled, LogoURL: cl.LogoURL})
	}
	toks, err := h.Store.RegistrationTokens(ctx, v.Org.ID)
	if err != nil {
		return err
	}
	now := h.Now()
	for _, t := range toks {
		props.Tokens = append(props.Tokens, regTokenRow(t, now))
	}
	props.OrgName = v.Org.Name
	props.RegistrationURL = strings.TrimRight(h.Issuer, "/") + "/register"
	p := h.Pages.Page(c, "Manage apps")
	p.Flash = doneFlash(c, appFlash)
	return render(c, status, views.Apps(p, props))
}

// offer works out what the viewer's organization may register: the app
// types and scopes its plan allows (an organization without a plan, or a
// plan that names no app types, is not restricted in types, as the
// registrar decides), with built-in OpenID scopes for apps that sign people
// in.
func (h *Apps) offer(ctx context.Context, org store.Organization, typ string) ([]views.AppTypeInfo, []views.ScopeOption, error) {
	var plan *store.Plan
	if org.PlanID != "" {
		p, err := h.Store.Plan(ctx, org.PlanID)
		if err != nil {
			return nil, nil, err
		}
		plan = &p
	}
	allowedTypes := map[string]bool{}
	planScopes := map[string]bool{}
	if plan != nil {
		for _, f := range plan.Features {
			for _, t := range f.AppTypes {
				allowedTypes[t] = true
			}
			for _, s := range f.Scopes {
				planScopes[s] = true
			}
		}
	}
	var types []views.AppTypeInfo
	for _, t := range views.AppTypes {
		if len(allowedTypes) == 0 || allowedTypes[t.Type] {
			types = append(types, t)
		}
	}
	var scopes []views.ScopeOption
	if typ != string(store.ClientService) {
		for _, s := range []string{"openid", "profile", "email", "groups", "offline_access"} {
			scopes = append(scopes, views.ScopeOption{Name: s, Group: "Sign-in (OpenID Connect)"})
		}
	}
	registry, err := h.Store.Scopes(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range registry {
		if s.APIID == "" && (plan == nil || planScopes[s.Name]) {
			scopes = append(scopes, views.ScopeOption{Name: s.Name, Description: s.Description, Group: "Portal"})
		}
	}
	// Each API the organization may use, with its scopes: the API's own
	// allow list is its plan bound (as the authorization server decides).
	apis, err := h.Store.APIs(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range apis {
		if !a.UsableBy(org.ID, org.PlanID) {
			continue
		}
		for _, s := range a.Scopes {
			scopes = append(scopes, views.ScopeOption{Name: s.Name, Description: s.Description, Group: a.Name, GroupID: a.Identifier})
		}
	}
	return types, scopes, nil
}

func (h *Apps) renderNew(c echo.Context, status int, f views.AppForm) error {
	v := viewerFrom(c)
	types, scopes, err := h.offer(c.Request().Context(), v.Org, f.Type)
	if err != nil {
		return err
	}
	if f.Type != "" && !slices.ContainsFunc(types, func(t views.AppTypeInfo) bool { return t.Type == f.Type }) {
		f.Type = "" // an unknown or disallowed type goes back to step one
	}
	props := views.AppNewProps{Types: types, Form: f, Scopes: scopes}
	if v.User.PlatformAdmin && f.Type != "" {
		if props.Policies, err = h.policyOptions(c.Request().Context(), store.ClientType(f.Type), f.Policy); err != nil {
			return err
		}
	}
	return render(c, status, views.AppNew(h.Pages.Page(c, "Register an app"), props))
}

// policyOptions are the policies an app of type typ can take, "none" first.
func (h *Apps) policyOptions(ctx context.Context, typ store.ClientType, selected string) ([]views.Option, error) {
	ps, err := h.Store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	kind := string(policyKindFor(store.Client{Type: typ}))
	out := []views.Option{{Value: "", Label: "none", Selected: selected == ""}}
	for _, p := range ps {
		if p.Kind == kind {
			out = append(out, views.Option{Value: p.ID, Label: p.Name, Selected: p.ID == selected})
		}
	}
	return out, nil
}

func (h *Apps) newForm(c echo.Context) error {
	return h.renderNew(c, http.StatusOK, views.AppForm{Type: c.QueryParam("type")})
}

// readAppForm parses the app form once; input is what the registrar gets.
func readAppForm(c echo.Context) (views.AppForm, authserver.RegisterInput) {
	form, _ := c.FormParams()
	f := views.AppForm{Type: c.FormValue("type"), Name: c.FormValue("name"), RedirectURIs: c.FormValue("redirect_uris"),
		Scopes: form["scopes"], LaunchURL: strings.TrimSpace(c.FormValue("launch_url")),
		LogoURL: strings.TrimSpace(c.FormValue("logo_url"))}
	in := authserver.RegisterInput{Name: f.Name, Type: store.ClientType(f.Type), Scopes: f.Scopes,
		LaunchURL: f.LaunchURL, LogoURL: f.LogoURL}
	for _, line := range strings.Split(f.RedirectURIs, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.RedirectURIs = append(in.RedirectURIs, line)
		}
	}
	return f, in
}

// indexedField matches the registrar's field paths such as redirect_uris[1].
var indexedField = regexp.MustCompile(`^([a-z_]+)\[(\d+)\]$`)

// registrarErrors turns the registrar's refusals into form messages: field
// paths fold onto the form's inputs ("redirect_uris[1]" becomes line 2 of
// redirect_uris), and a denial by the registration policy is shown on the
// form as a whole. Anything else is not a form problem.
func registrarErrors(err error) (views.FieldErrors, bool) {
	var ve *authserver.ValidationError
	if errors.As(err, &ve) {
		out := views.FieldErrors{}
		for _, fe := range ve.Fields {
			field, msg := fe.Field, fe.Message
			if m := indexedField.FindStringSubmatch(field); m != nil {
				field = m[1]
				if field == "redirect_uris" {
					msg = "line " + lineNumber(m[2]) + ": " + msg
				}
			}
			switch field {
			case "grant_types", "token_endpoint_auth_method", "id_token_signed_response_alg", "jwks", "jwks_uri",
				"post_logout_redirect_uris", "client_id":
				field = "type"
			}
			if prev, ok := out[field]; ok {
				msg = prev + "; " + msg
			}
			out[field] = msg
		}
		return out, true
	}
	if errors.Is(err, authserver.ErrRegistrationDenied) {
		msg := strings.TrimPrefix(err.Error(), authserver.ErrRegistrationDenied.Error()+": ")
		return views.FieldErrors{"type": "Registration was refused: " + msg}, true
	}
	return nil, false
}

// lineNumber turns a zero-based index into the 1-based line people count.
func lineNumber(idx string) string {
	n, _ := strconv.Atoi(idx)
	return strconv.Itoa(n + 1)
}

func (h *Apps) create(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	f, in := readAppForm(c)
	f.Policy = strings.TrimSpace(c.FormValue("policy"))
	if f.Policy != "" {
		// Attaching a policy is a platform admin's act (app_policy.go); the
		// choice is checked before anything is registered.
		if !v.User.PlatformAdmin || h.Policies == nil {
			return &PageError{Status: http.StatusForbidden, Message: "Only a platform administrator chooses an app's access policy."}
		}
		p, err := h.Store.Policy(ctx, f.Policy)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err != nil || p.Kind != string(policyKindFor(store.Client{Type: in.Type})) {
			f.Errors = views.FieldErrors{"policy": "Choose one of the offered policies."}
			return h.renderNew(c, http.StatusUnprocessableEntity, f)
		}
	}
	cl, secret, err := h.Registrar.Register(ctx, v.Org.ID, appActor(v), in)
	if err == nil && f.Policy != "" {
		err = h.Policies.Attach(ctx, actorOf(v), f.Policy, policyeditor.Target{ClientID: cl.ClientID})
	}
	if err != nil {
		errs, ok := registrarErrors(err)
		if !ok {
			return err
		}
		f.Errors = errs
		return h.renderNew(c, http.StatusUnprocessableEntity, f)
	}
	if secret == "" {
		return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?done=saved")
	}
	// The secret exists nowhere else: it is held for this session and
	// shown once by the page the browser is sent to.
	if id, ok, err := holdReveal(c, h.Store, h.Sealer, h.Now(), secret); err != nil {
		return err
	} else if ok {
		return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?reveal="+id)
	}
	return h.renderApp(c, http.StatusOK, cl, appProps{newSecret: secret})
}

package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/store"
	"portico/views"
)

// appProps is what a handler adds to an app's page beyond the stored
// client: a secret to show once, the form as typed, problems.
type appProps struct {
	newSecret string
	// revealGone: the page was opened to show a secret already shown.
	revealGone bool
	form       *views.AppForm
	errors     views.FieldErrors
}

const timeShown = "2006-01-02 15:04"

func (h *Apps) renderApp(c echo.Context, status int, cl store.Client, extra appProps) error {
	v := viewerFrom(c)
	_, scopes, err := h.offer(c.Request().Context(), v.Org, string(cl.Type))
	if err != nil {
		return err
	}
	// Scopes the app already holds stay visible even if the plan dropped
	// them, so saving the form is an informed choice.
	for _, s := range cl.Scopes {
		if !containsScope(scopes, s) {
			scopes = append(scopes, views.ScopeOption{Name: s, Description: "no longer in the plan", Group: "No longer available"})
		}
	}
	f := views.AppForm{Type: string(cl.Type), Name: cl.Name, RedirectURIs: strings.Join(cl.RedirectURIs, "\n"),
		Scopes: cl.Scopes, LaunchURL: cl.LaunchURL, LogoURL: cl.LogoURL}
	if extra.form != nil {
		f = *extra.form
		f.Type = string(cl.Type)
	}
	props := views.AppProps{ClientID: cl.ClientID, Name: cl.Name, Type: string(cl.Type), Enabled: cl.Enabled,
		Confidential:  cl.Type.Confidential() && cl.TokenEndpointAuthMethod != "private_key_jwt",
		TokenEndpoint: strings.TrimRight(h.Issuer, "/") + "/token", Form: f, Scopes: scopes,
		NewSecret: extra.newSecret, RevealGone: extra.revealGone, Errors: extra.errors, FirstParty: cl.FirstParty, CanSetFirstParty: v.User.PlatformAdmin}
	props.QuickStart = views.NewQuickStart(h.Issuer, cl.ClientID, string(cl.Type), cl.RedirectURIs, cl.Scopes,
		!cl.Type.Confidential() || cl.TokenEndpointAuthMethod == "none")
	if v.User.PlatformAdmin {
		props.Profile = &views.AppProfile{FAPI2: cl.FAPI2, RequirePAR: cl.RequirePAR, RequireDPoP: cl.RequireDPoP}
		if _, ok := h.Registrar.(appSharer); ok {
			if props.Sharing, err = h.sharingProps(c.Request().Context(), cl); err != nil {
				return err
			}
		}
	}
	if props.Policy, err = appPolicyProps(c, h.Store, v, cl); err != nil {
		return err
	}
	now := h.Now()
	for _, s := range cl.Secrets {
		row := views.SecretRow{ID: s.ID, Hint: s.Hint, Created: s.CreatedAt.UTC().Format(timeShown), Live: s.LiveAt(now)}
		if !s.ExpiresAt.IsZero() {
			row.Expires = s.ExpiresAt.UTC().Format(timeShown)
		}
		props.Secrets = append(props.Secrets, row)
	}
	p := h.Pages.Page(c, cl.Name)
	p.Flash = doneFlash(c, appFlash)
	return render(c, status, views.App(p, props))
}

func containsScope(opts []views.ScopeOption, name string) bool {
	for _, o := range opts {
		if o.Name == name {
			return true
		}
	}
	return false
}

// client loads the named client of the viewer's organization; another
// organization's client ID is store.ErrNotFound, hence 404.
func (h *Apps) client(c echo.Context) (store.Client, error) {
	return h.Store.ClientByClientID(c.Request().Context(), viewerFrom(c).Org.ID, c.Param("client_id"))
}

func (h *Apps) show(c echo.Context) error {
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	var extra appProps
	if id := c.QueryParam("reveal"); id != "" {
		secret, found, err := takeReveal(c, h.Store, h.Sealer, h.Now(), id)
		if err != nil {
			return err
		}
		extra.newSecret, extra.revealGone = secret, !found
	}
	return h.renderApp(c, http.StatusOK, cl, extra)
}

func (h *Apps) update(c echo.Context) error {
	v := viewerFrom(c)
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	f, in := readAppForm(c)
	in.Type = cl.Type
	if _, err := h.Registrar.Update(c.Request().Context(), v.Org.ID, cl.ClientID, appActor(v), in); err != nil {
		errs, ok := registrarErrors(err)
		if !ok {
			return err
		}
		f.Errors = errs
		return h.renderApp(c, http.StatusUnprocessableEntity, cl, appProps{form: &f})
	}
	return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?done=saved")
}

// graces are the rotation grace periods the form offers, and nothing else.
var graces = map[string]time.Duration{"0": 0, "1h": time.Hour, "24h": 24 * time.Hour, "168h": 7 * 24 * time.Hour}

func (h *Apps) rotate(c echo.Context) error {
	v := viewerFrom(c)
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	grace, ok := graces[c.FormValue("grace")]
	if !ok {
		return h.renderApp(c, http.StatusUnprocessableEntity, cl, appProps{errors: views.FieldErrors{"grace": "Choose one of the offered grace periods."}})
	}
	after, secret, err := h.Registrar.RotateSecret(c.Request().Context(), v.Org.ID, cl.ClientID, appActor(v), grace)
	if err != nil {
		errs, ok := registrarErrors(err)
		if !ok {
			return err
		}
		return h.renderApp(c, http.StatusUnprocessableEntity, cl, appProps{errors: views.FieldErrors{"secret": strings.Join(values(errs), "; ")}})
	}
	if id, ok, err := holdReveal(c, h.Store, h.Sealer, h.Now(), secret); err != nil {
		return err
	} else if ok {
		return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?reveal="+id)
	}
	return h.renderApp(c, http.StatusOK, after, appProps{newSecret: secret})
}

func values(m views.FieldErrors) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (h *Apps) revokeSecret(c echo.Context) error {
	v := viewerFrom(c)
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	if _, err := h.Registrar.RevokeSecret(c.Request().Context(), v.Org.ID, cl.ClientID, c.Param("secret_id"), appActor(v)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?done=secret_revoked")
}

func (h *Apps) enable(c echo.Context) error  { return h.setEnabled(c, true) }
func (h *Apps) disable(c echo.Context) error { return h.setEnabled(c, false) }

func (h *Apps) setEnabled(c echo.Context, enabled bool) error {
	v := viewerFrom(c)
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	if _, err := h.Registrar.SetEnabled(c.Request().Context(), v.Org.ID, cl.ClientID, appActor(v), enabled); err != nil {
		return err
	}
	done := "disabled"
	if enabled {
		done = "enabled"
	}
	return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?done="+done)
}

// delete removes an app once its name is typed, exactly, as confirmation.
func (h *Apps) delete(c echo.Context) error {
	v := viewerFrom(c)
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	if strings.TrimSpace(c.FormValue("confirm")) != cl.Name {
		return h.renderApp(c, http.StatusUnprocessableEntity, cl, appProps{errors: views.FieldErrors{
			"confirm": "Type the app's name exactly to delete it."}})
	}
	if err := h.Registrar.Delete(c.Request().Context(), v.Org.ID, cl.ClientID, appActor(v)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/apps?done=deleted")
}

func regTokenRow(t store.RegistrationToken, now time.Time) views.RegTokenRow {
	r := views.RegTokenRow{ID: t.ID, Description: t.Description, Created: t.CreatedAt.UTC().Format(timeShown),
		Uses: strconv.Itoa(t.Uses)}
	if t.MaxUses > 0 {
		r.Uses = fmt.Sprintf("%d of %d", t.Uses, t.MaxUses)
	}
	if !t.ExpiresAt.IsZero() {
		r.Expires = t.ExpiresAt.UTC().Format(timeShown)
	}
	switch {
	case !t.RevokedAt.IsZero():
		r.State = "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		r.State = "expired"
	case t.MaxUses > 0 && t.Uses >= t.MaxUses:
		r.State = "used up"
	default:
		r.State = "usable"
	}
	return r
}

// regTokenTTLs maps the form's choices to lifetimes.
var regTokenTTLs = map[string]time.Duration{"24h": 24 * time.Hour, "168h": 7 * 24 * time.Hour, "720h": 30 * 24 * time.Hour, "0": 0}

func (h *Apps) createRegToken(c echo.Context) error {
	v := viewerFrom(c)
	f := views.RegTokenForm{Description: strings.TrimSpace(c.FormValue("description")), TTL: c.FormValue("ttl"),
		MaxUses: strings.TrimSpace(c.FormValue("max_uses"))}
	errs := views.FieldErrors{}
	ttl, ok := regTokenTTLs[f.TTL]
	if !ok {
		errs["ttl"] = "Choose one of the offered lifetimes."
	}
	uses := 0
	if f.MaxUses != "" {
		n, err := strconv.Atoi(f.MaxUses)
		if err != nil || n < 0 || n > 100000 {
			errs["max_uses"] = "Enter a whole number from 0 (unlimited) up."
		}
		uses = n
	}
	if len(errs) == 0 {
		_, plain, err := h.Registrar.CreateRegistrationToken(c.Request().Context(), v.Org.ID, appActor(v),
			authserver.RegistrationTokenInput{Description: f.Description, TTL: ttl, MaxUses: uses})
		if err == nil {
			if id, ok, err := holdReveal(c, h.Store, h.Sealer, h.Now(), plain); err != nil {
				return err
			} else if ok {
				return c.Redirect(http.StatusSeeOther, "/apps?reveal="+id)
			}
			return h.renderList(c, http.StatusOK, views.AppsProps{NewToken: plain, TokenForm: views.RegTokenForm{TTL: "168h"}})
		}
		var ok bool
		if errs, ok = registrarErrors(err); !ok {
			return err
		}
		if msg, ok := errs["type"]; ok { // a denial concerns the token as a whole
			delete(errs, "type")
			errs["description"] = msg
		}
	}
	f.Errors = errs
	return h.renderList(c, http.StatusUnprocessableEntity, views.AppsProps{TokenForm: f})
}

// revokeRegToken revokes an initial access token of the viewer's
// organization through the registrar, which audits it.
func (h *Apps) revokeRegToken(c echo.Context) error {
	v := viewerFrom(c)
	if err := h.Registrar.RevokeRegistrationToken(c.Request().Context(), v.Org.ID, c.Param("id"), appActor(v)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/apps?done=token_revoked")
}

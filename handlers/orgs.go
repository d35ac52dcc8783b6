package handlers

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/store"
	"portico/views"
)

// Orgs serves the platform admins' organization pages: list, create, edit,
// suspend and reactivate, and the partnerships ending soon.
type Orgs struct {
	Store    *store.Store
	Partners *partners.Service
	Pages    *Pages
	Now      func() time.Time
}

// Mount registers the routes, all for platform admins only.
func (h *Orgs) Mount(g *echo.Group) {
	h.Pages.AddNav("Organizations", "/admin/orgs", platformAdmins)
	a := g.Group("/admin/orgs", requireUser, requireRole(platformAdmins))
	a.GET("", h.list)
	a.GET("/new", h.newForm)
	a.POST("", h.create)
	a.GET("/:slug", h.edit)
	a.POST("/:slug", h.update)
	a.POST("/:slug/suspend", h.suspend)
	a.POST("/:slug/reactivate", h.reactivate)
}

var orgFlash = map[string]string{
	"created":     "The organization was created.",
	"saved":       "The organization was saved.",
	"suspended":   "The organization is suspended. Its people were signed out and its refresh tokens revoked.",
	"reactivated": "The organization is active again.",
}

func (h *Orgs) list(c echo.Context) error {
	ctx := c.Request().Context()
	page := pageOf(c)
	orgs, info, err := h.Store.OrganizationPage(ctx, page)
	if err != nil {
		return err
	}
	plans, err := h.planNames(ctx)
	if err != nil {
		return err
	}
	now := h.Now()
	// Only the organizations whose partnership ends inside the window are
	// read for the "ending soon" box, by index, not the whole table.
	ending, err := h.Store.OrganizationsEndingBetween(ctx, now, now.Add(partners.EndingSoonWindow), endingSoonMax)
	if err != nil {
		return err
	}
	props := views.OrgListProps{Q: page.Q, Pager: pagerOf(c, "/admin/orgs", info)}
	for _, o := range orgs {
		props.Orgs = append(props.Orgs, orgRow(o, plans, now))
	}
	for _, o := range partners.EndingSoon(ending, now, partners.EndingSoonWindow) {
		props.EndingSoon = append(props.EndingSoon, orgRow(o, plans, now))
	}
	p := h.Pages.Page(c, "Organizations")
	p.Flash = doneFlash(c, orgFlash)
	return render(c, http.StatusOK, views.OrgList(p, props))
}

// endingSoonMax bounds the "ending soon" box.
const endingSoonMax = 100

func orgRow(o store.Organization, plans map[string]string, now time.Time) views.OrgRow {
	r := views.OrgRow{Slug: o.Slug, Name: o.Name, Domains: strings.Join(o.Domains, ", "), Plan: plans[o.PlanID]}
	r.Status = o.InactiveReason(now)
	r.Active = r.Status == ""
	r.Status = strings.TrimPrefix(strings.TrimPrefix(r.Status, "the organization is "), "the partnership ")
	if !o.ValidUntil.IsZero() {
		r.ValidUntil = o.ValidUntil.UTC().Format("2006-01-02 15:04")
		days := int(math.Ceil(o.ValidUntil.Sub(now).Hours() / 24))
		r.EndsIn = fmt.Sprintf("in %d days", days)
		if days == 1 {
			r.EndsIn = "within a day"
		}
	}
	return r
}

// planNames maps plan IDs to names, and planOptions lists them for a select.
func (h *Orgs) planNames(ctx context.Context) (map[string]string, error) {
	plans, err := h.Store.Plans(ctx)
	m := map[string]string{}
	for _, p := range plans {
		m[p.ID] = p.Name
	}
	return m, err
}

func (h *Orgs) planOptions(ctx context.Context) ([]views.PlanOption, error) {
	plans, err := h.Store.Plans(ctx)
	var out []views.PlanOption
	for _, p := range plans {
		out = append(out, views.PlanOption{Slug: p.Slug, Name: p.Name})
	}
	return out, err
}

func (h *Orgs) newForm(c echo.Context) error {
	return h.renderEdit(c, http.StatusOK, views.OrgEditProps{New: true}, store.Organization{})
}

func (h *Orgs) renderEdit(c echo.Context, status int, props views.OrgEditProps, o store.Organization) error {
	ctx := c.Request().Context()
	plans, err := h.planOptions(ctx)
	if err != nil {
		return err
	}
	props.Plans = plans
	title := "New organization"
	if !props.New {
		title = o.Name
		props.CurrentSlug = o.Slug
		props.Status = o.InactiveReason(h.Now())
		props.Active = props.Status == ""
		props.Suspended = o.Status == store.OrgSuspended
		hub, err := h.orgHub(ctx, o)
		if err != nil {
			return err
		}
		props.Hub = hub
	}
	p := h.Pages.Page(c, title)
	p.Flash = doneFlash(c, orgFlash)
	return render(c, status, views.OrgEdit(p, props))
}

func (h *Orgs) edit(c echo.Context) error {
	ctx := c.Request().Context()
	o, err := h.Store.OrganizationBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	f := views.OrgForm{Slug: o.Slug, Name: o.Name, Domains: strings.Join(o.Domains, ", "),
		ValidFrom: formatFormTime(o.ValidFrom), ValidUntil: formatFormTime(o.ValidUntil), RequireMFA: o.RequireMFA,
		RequirePasskey: o.RequirePasskey}
	if o.PlanID != "" {
		if pl, err := h.Store.Plan(ctx, o.PlanID); err == nil {
			f.Plan = pl.Slug
		}
	}
	return h.renderEdit(c, http.StatusOK, views.OrgEditProps{Form: f}, o)
}

// readOrgForm parses the form once into what was typed and the service's
// input; unreadable times become field errors right away.
func readOrgForm(c echo.Context) (views.OrgForm, partners.OrgInput, views.FieldErrors) {
	f := views.OrgForm{Slug: c.FormValue("slug"), Name: c.FormValue("name"), Domains: c.FormValue("domains"),
		Plan: c.FormValue("plan"), ValidFrom: c.FormValue("valid_from"), ValidUntil: c.FormValue("valid_until"),
		RequireMFA: c.FormValue("require_mfa") == "on", RequirePasskey: c.FormValue("require_passkey") == "on"}
	domains := splitList(f.Domains)
	in := partners.OrgInput{Slug: &f.Slug, Name: &f.Name, Domains: &domains, PlanSlug: &f.Plan, RequireMFA: &f.RequireMFA,
		RequirePasskey: &f.RequirePasskey}
	errs := views.FieldErrors{}
	if t, ok := parseFormTime(f.ValidFrom); ok {
		in.ValidFrom = &t
	} else {
		errs["valid_from"] = "Enter a date and time, or leave it empty."
	}
	if t, ok := parseFormTime(f.ValidUntil); ok {
		in.ValidUntil = &t
	} else {
		errs["valid_until"] = "Enter a date and time, or leave it empty."
	}
	return f, in, errs
}

func (h *Orgs) create(c echo.Context) error {
	f, in, errs := readOrgForm(c)
	if len(errs) == 0 {
		o, err := h.Partners.CreateOrg(c.Request().Context(), actorOf(viewerFrom(c)), in)
		if err == nil {
			// Onboarding goes on from the new organization's own page.
			return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+url.PathEscape(o.Slug)+"?done=created")
		}
		var ok bool
		if errs, ok = asFieldErrors(err); !ok {
			return err
		}
	}
	f.Errors = errs
	return h.renderEdit(c, http.StatusUnprocessableEntity, views.OrgEditProps{New: true, Form: f}, store.Organization{})
}

func (h *Orgs) update(c echo.Context) error {
	ctx := c.Request().Context()
	cur, err := h.Store.OrganizationBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	f, in, errs := readOrgForm(c)
	if len(errs) == 0 {
		o, err := h.Partners.UpdateOrg(ctx, actorOf(viewerFrom(c)), cur.Slug, in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+o.Slug+"?done=saved")
		}
		var ok bool
		if errs, ok = asFieldErrors(err); !ok {
			return err
		}
	}
	f.Errors = errs
	return h.renderEdit(c, http.StatusUnprocessableEntity, views.OrgEditProps{Form: f}, cur)
}

func (h *Orgs) suspend(c echo.Context) error {
	o, err := h.Partners.Suspend(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("slug"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+o.Slug+"?done=suspended")
}

func (h *Orgs) reactivate(c echo.Context) error {
	o, err := h.Partners.Reactivate(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("slug"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/orgs/"+o.Slug+"?done=reactivated")
}

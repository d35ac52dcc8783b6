package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/store"
	"portico/views"
)

// Plans serves the platform admins' plan pages.
type Plans struct {
	Store    *store.Store
	Partners *partners.Service
	Pages    *Pages
}

// Mount registers the routes, all for platform admins only.
func (h *Plans) Mount(g *echo.Group) {
	h.Pages.AddNav("Plans", "/admin/plans", platformAdmins)
	a := g.Group("/admin/plans", requireUser, requireRole(platformAdmins))
	a.GET("", h.list)
	a.GET("/new", h.newForm)
	a.POST("", h.create)
	a.GET("/:slug", h.edit)
	a.POST("/:slug", h.update)
}

var planFlash = map[string]string{
	"created": "The plan was created.",
	"saved":   "The plan was saved. Tokens issued from now on carry the new features.",
}

// blankFeatureRows is how many empty rows the form offers for new features.
const blankFeatureRows = 2

// maxFeatureRows bounds how many indexed rows a form may send.
const maxFeatureRows = 50

func (h *Plans) list(c echo.Context) error {
	ctx := c.Request().Context()
	plans, err := h.Store.Plans(ctx)
	if err != nil {
		return err
	}
	var rows []views.PlanRow
	for _, pl := range plans {
		n, err := h.Store.CountOrganizationsOnPlan(ctx, pl.ID) // by index, per plan
		if err != nil {
			return err
		}
		rows = append(rows, views.PlanRow{Slug: pl.Slug, Name: pl.Name, Features: featureRows(pl.Features), Orgs: n})
	}
	p := h.Pages.Page(c, "Plans")
	p.Flash = doneFlash(c, planFlash)
	return render(c, http.StatusOK, views.PlanList(p, rows))
}

func featureRows(fs []store.Feature) []views.FeatureRow {
	var out []views.FeatureRow
	for _, f := range fs {
		out = append(out, views.FeatureRow{Name: f.Name, Scopes: strings.Join(f.Scopes, " "),
			AppTypes: f.AppTypes, MaxApps: strconv.Itoa(f.MaxApps)})
	}
	return out
}

func (h *Plans) renderEdit(c echo.Context, status int, props views.PlanEditProps) error {
	for range blankFeatureRows {
		props.Form.Features = append(props.Form.Features, views.FeatureRow{})
	}
	title := "New plan"
	if !props.New {
		title = props.Form.Name
	}
	p := h.Pages.Page(c, title)
	p.Flash = doneFlash(c, planFlash)
	return render(c, status, views.PlanEdit(p, props))
}

func (h *Plans) newForm(c echo.Context) error {
	return h.renderEdit(c, http.StatusOK, views.PlanEditProps{New: true})
}

func (h *Plans) edit(c echo.Context) error {
	pl, err := h.Store.PlanBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	return h.renderEdit(c, http.StatusOK, views.PlanEditProps{CurrentSlug: pl.Slug,
		Form: views.PlanForm{Slug: pl.Slug, Name: pl.Name, Features: featureRows(pl.Features)}})
}

// readPlanForm parses the indexed feature rows, dropping blank ones, so that
// the error keys partners returns (features[i].…) match the rows shown
// again.
func readPlanForm(c echo.Context) (views.PlanForm, partners.PlanInput) {
	f := views.PlanForm{Slug: c.FormValue("slug"), Name: c.FormValue("name")}
	form, _ := c.FormParams()
	var feats []partners.FeatureInput
	for i := range maxFeatureRows {
		key := func(field string) string { return "features[" + strconv.Itoa(i) + "]." + field }
		row := views.FeatureRow{Name: form.Get(key("name")), Scopes: form.Get(key("scopes")),
			AppTypes: form[key("app_types")], MaxApps: strings.TrimSpace(form.Get(key("max_apps")))}
		if strings.TrimSpace(row.Name) == "" && strings.TrimSpace(row.Scopes) == "" && len(row.AppTypes) == 0 &&
			(row.MaxApps == "" || row.MaxApps == "0") {
			continue
		}
		in := partners.FeatureInput{Name: row.Name, Scopes: splitList(row.Scopes), AppTypes: row.AppTypes}
		if row.MaxApps != "" {
			v, err := strconv.Atoi(row.MaxApps)
			if err != nil {
				v = -1 // not a number: partners explains the allowed range with every other problem
			}
			in.MaxApps = v
		}
		f.Features = append(f.Features, row)
		feats = append(feats, in)
	}
	return f, partners.PlanInput{Slug: &f.Slug, Name: &f.Name, Features: &feats}
}

func (h *Plans) create(c echo.Context) error {
	f, in := readPlanForm(c)
	_, err := h.Partners.CreatePlan(c.Request().Context(), actorOf(viewerFrom(c)), in)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/plans?done=created")
	}
	errs, ok := asFieldErrors(err)
	if !ok {
		return err
	}
	f.Errors = errs
	return h.renderEdit(c, http.StatusUnprocessableEntity, views.PlanEditProps{New: true, Form: f})
}

func (h *Plans) update(c echo.Context) error {
	ctx := c.Request().Context()
	cur, err := h.Store.PlanBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	f, in := readPlanForm(c)
	pl, err := h.Partners.UpdatePlan(ctx, actorOf(viewerFrom(c)), cur.Slug, in)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/plans/"+pl.Slug+"?done=saved")
	}
	errs, ok := asFieldErrors(err)
	if !ok {
		return err
	}
	f.Errors = errs
	return h.renderEdit(c, http.StatusUnprocessableEntity, views.PlanEditProps{CurrentSlug: cur.Slug, Form: f})
}

package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// Policies serves the policy editor for platform admins: list, create and
// edit (as a draft with a simulator), versions, diff, restore, import,
// export, attach and detach. The lifecycle itself is policyeditor.Service,
// shared with the CLI.
type Policies struct {
	Store   *store.Store
	Service *policyeditor.Service
	// Locator geolocates the simulator's address; nil means the embedded table.
	Locator policyeditor.Locator
	Pages   *Pages
	Now     func() time.Time
	// ReplayWait is how long a page waits for an impact preview before
	// showing its progress instead (0: 2 s).
	ReplayWait time.Duration

	jobs  replayJobs
	tally policyeditor.ShadowTally
}

// Mount registers the routes, all for platform admins only.
func (h *Policies) Mount(g *echo.Group) {
	if h.Service == nil {
		h.Service = &policyeditor.Service{Store: h.Store, Now: h.Now}
	}
	if h.Locator == nil {
		h.Locator = policyeditor.IPLocLocator{}
	}
	h.Pages.AddNav("Policies", "/admin/policies", platformAdmins)
	a := g.Group("/admin/policies", requireUser, requireRole(platformAdmins))
	a.GET("", h.list)
	a.GET("/new", h.newForm)
	a.POST("/new", h.post)
	a.GET("/import", h.importForm)
	a.POST("/import", h.importPost)
	a.GET("/:id", h.edit)
	a.POST("/:id", h.post)
	a.GET("/:id/versions", h.versions)
	a.GET("/:id/diff", h.versions)
	a.POST("/:id/versions/:n/restore", h.restore)
	a.GET("/:id/export", h.export)
	a.POST("/:id/attach", h.attach)
	a.POST("/:id/detach", h.detach)
	a.GET("/:id/replay", h.replayVersion)
	a.GET("/replay-jobs/:job", h.replayJob)
	a.GET("/:id/shadow", h.shadow)
	a.POST("/:id/shadow", h.attachShadow)
	a.POST("/:id/shadow/detach", h.detachShadow)
	a.POST("/:id/promote", h.promote)
}

var policyFlash = map[string]string{
	"saved":           "Saved as a new version. It applies from the next request.",
	"created":         "The policy was created. Attach it to an app or the portal to make it decide.",
	"restored":        "The old version was restored as a new version.",
	"imported":        "The policy was imported.",
	"attached":        "Attached.",
	"detached":        "Detached.",
	"shadowed":        "Attached in report-only mode: every request is decided by both versions, only the enforced one takes effect.",
	"shadow-detached": "Report-only mode stopped.",
	"promoted":        "Promoted: the report-only version is now enforced. Restore the previous version to undo.",
}

func (h *Policies) page(c echo.Context, title string) views.Page {
	p := h.Pages.Page(c, title)
	if msg, ok := policyFlash[c.QueryParam("done")]; ok {
		p.Flash = &views.Flash{Kind: "ok", Message: msg}
	}
	return p
}

func (h *Policies) list(c echo.Context) error {
	ctx := c.Request().Context()
	ps, err := h.Store.Policies(ctx)
	if err != nil {
		return err
	}
	var props views.PolicyListProps
	for _, p := range ps {
		u, err := h.Service.Usage(ctx, p.ID)
		if err != nil {
			return err
		}
		props.Policies = append(props.Policies, views.PolicyRow{ID: p.ID, Name: p.Name, Kind: p.Kind,
			Version: p.CurrentVersion, Updated: p.UpdatedAt.Format("2006-01-02 15:04"), UsedBy: usageLabels(u)})
	}
	return render(c, http.StatusOK, views.PolicyList(h.page(c, "Policies"), props))
}

func usageLabels(u policyeditor.Usage) []string {
	var out []string
	for _, a := range u.Apps {
		out = append(out, fmt.Sprintf("%s (app %s of %s)", a.Name, a.ClientID, a.OrgSlug))
	}
	if u.MoreApps {
		out = append(out, fmt.Sprintf("… and more applications (the first %d are listed)", policyeditor.UsageApps))
	}
	for _, a := range u.Points {
		out = append(out, policyeditor.Target{Point: a.Point, Plan: a.Target}.String())
	}
	for _, r := range u.Routes {
		out = append(out, policyeditor.RouteString(r))
	}
	return out
}

func (h *Policies) newForm(c echo.Context) error {
	doc := policyeditor.Document{Kind: policyeditor.KindUserAccess, Default: policyeditor.Deny}
	return h.renderEditor(c, http.StatusOK, "", 0, doc, nil, nil, views.SimProps{})
}

func (h *Policies) edit(c echo.Context) error {
	if ref := c.QueryParam("decision"); ref != "" {
		return h.editDecision(c, ref)
	}
	p, v, doc, err := h.Service.Current(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	sim := views.SimProps{}
	if ref := c.QueryParam("replay"); ref != "" {
		d, err := h.Store.Decision(c.Request().Context(), "", ref)
		if err != nil {
			return err
		}
		sim = replaySim(d)
	}
	return h.renderEditor(c, http.StatusOK, p.ID, v.Version, doc, nil, nil, sim)
}

// replaySim fills the simulator with what a logged decision looked at, so
// "Simulate" asks the current draft the same question.
func replaySim(d store.Decision) views.SimProps {
	var dc policyeditor.DecisionContext
	_ = json.Unmarshal(d.Context, &dc) // an unreadable context replays what it can: the time and client
	s := views.SimProps{Groups: strings.Join(dc.Groups, ", "), IP: dc.IP, Country: dc.Country,
		Time: d.At.UTC().Format("2006-01-02T15:04"), TZ: "UTC", Locations: strings.Join(dc.Locations, "\n"),
		Org: dc.Org, Plan: dc.Plan, Client: d.ClientID, Scopes: strings.Join(dc.Scopes, "\n"),
		Method: dc.Method, Path: dc.Path, Host: dc.Host}
	if !dc.MFAAt.IsZero() && !d.At.Before(dc.MFAAt) {
		s.MFAAge = d.At.Sub(dc.MFAAt).Round(time.Second).String()
	}
	attrs := make([]string, 0, len(dc.Attributes))
	for k, v := range dc.Attributes {
		attrs = append(attrs, k+"="+v)
	}
	slices.Sort(attrs)
	s.Attributes = strings.Join(attrs, "\n")
	return s
}

// post handles every button of the editor: editing operations and the
// simulator re-render the draft (200), a failed save re-renders it with the
// errors beside their fields (422), and a good save redirects (303).
func (h *Policies) post(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if id != "" {
		if _, err := h.Store.Policy(ctx, id); err != nil {
			return err
		}
	}
	form, err := c.FormParams()
	if err != nil {
		return &PageError{Status: http.StatusBadRequest, Message: "The form could not be read.", Err: err}
	}
	pf := parsePolicyForm(form)
	if ref := form.Get("sim_decision"); ref != "" {
		return h.simulateDecision(c, id, pf, ref)
	}
	switch {
	case pf.applyOp(form):
		return h.renderEditor(c, http.StatusOK, id, pf.Base, pf.Doc, nil, nil, pf.SimRaw)
	case pf.Op == "simulate":
		return h.simulate(c, id, pf)
	case pf.Op == "save":
		return h.save(c, id, pf)
	case pf.Op == "replay":
		return h.replayDraft(c, id, pf, form.Get("replay_days"))
	case pf.Op == "shadow":
		return h.saveShadow(c, id, pf)
	}
	return h.renderEditor(c, http.StatusOK, id, pf.Base, pf.Doc, nil, nil, pf.SimRaw)
}

func (h *Policies) save(c echo.Context, id string, pf policyForm) error {
	ctx := c.Request().Context()
	if len(pf.parseErrs) > 0 {
		errs := pf.parseErrs
		if _, err := policyeditor.Compile(pf.Doc); err != nil {
			var fe policyeditor.FieldErrors
			errors.As(err, &fe)
			errs = append(errs, fe...)
		}
		return h.renderEditor(c, http.StatusUnprocessableEntity, id, pf.Base, pf.Doc, errs, nil, pf.SimRaw)
	}
	saved, err := h.Service.Save(ctx, actorOf(viewerFrom(c)), id, pf.Base, pf.Doc, pf.Note)
	var fe policyeditor.FieldErrors
	switch {
	case errors.As(err, &fe):
		return h.renderEditor(c, http.StatusUnprocessableEntity, id, pf.Base, pf.Doc, fe, nil, pf.SimRaw)
	case errors.Is(err, policyeditor.ErrConflict):
		return h.renderConflict(c, id, pf)
	case err != nil:
		return err
	}
	done := "saved"
	if saved.Created {
		done = "created"
	}
	return redirectAfterPost(c, "/admin/policies/"+saved.Policy.ID+"?done="+done)
}

func (h *Policies) renderConflict(c echo.Context, id string, pf policyForm) error {
	// Show the draft again based on the newer version, so a second save is a
	// deliberate overwrite.
	p, err := h.Store.Policy(c.Request().Context(), id)
	if err != nil {
		return err
	}
	props, err := h.editorProps(withAppPicker(c), id, p.CurrentVersion, pf.Doc, nil, nil, pf.SimRaw)
	if err != nil {
		return err
	}
	props.Conflict = true
	props.Note = pf.Note
	return render(c, http.StatusConflict, views.PolicyEditor(h.page(c, pf.Doc.Name), props))
}

// redirectAfterPost answers a successful post with 303, or for htmx with
// HX-Redirect, so the browser loads the new page as a whole.
func redirectAfterPost(c echo.Context, to string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (h *Policies) simulate(c echo.Context, id string, pf policyForm) error {
	sim, err := policyeditor.Simulate(pf.Doc, pf.Sim, h.Now(), h.Locator)
	var fe policyeditor.FieldErrors
	if err != nil && !errors.As(err, &fe) {
		return err
	}
	if err != nil {
		// Sample problems are reported beside the simulator's fields; draft
		// problems beside the draft's.
		if _, cerr := policyeditor.Compile(pf.Doc); cerr != nil {
			var de policyeditor.FieldErrors
			errors.As(cerr, &de)
			res := &views.SimResult{Blocked: "The draft has problems (shown above); fix them to simulate."}
			raw := pf.SimRaw
			if _, rerr := pf.Sim.Request(h.Now(), h.Locator); rerr != nil {
				raw.Errors = simErrors(rerr)
			}
			return h.renderEditor(c, http.StatusUnprocessableEntity, id, pf.Base, pf.Doc, de, res, raw)
		}
		raw := pf.SimRaw
		raw.Errors = simErrors(err)
		return h.renderEditor(c, http.StatusUnprocessableEntity, id, pf.Base, pf.Doc, nil,
			&views.SimResult{Blocked: "Fix the sample request to simulate."}, raw)
	}
	res := simResult(sim, pf.Doc, pf.Sim.Country)
	return h.renderEditorTrace(c, id, pf, res, &sim.Trace)
}

func simErrors(err error) map[string][]string {
	out := map[string][]string{}
	var fe policyeditor.FieldErrors
	if errors.As(err, &fe) {
		for _, e := range fe {
			field, _, _ := strings.Cut(e.Path, "[")
			out[field] = append(out[field], e.Message)
		}
	}
	return out
}

func simResult(sim policyeditor.Simulation, doc policyeditor.Document, typedCountry string) *views.SimResult {
	d := sim.Trace.Decision
	res := &views.SimResult{Action: d.Action.String(), Deciding: "the default", Reason: d.Reason}
	if d.Rule > 0 {
		res.Deciding = fmt.Sprintf("rule %d", d.Rule)
		if n := doc.Rules[d.Rule-1].Name; n != "" {
			res.Deciding += " (" + n + ")"
		}
	}
	for _, rt := range sim.Trace.Rules {
		step := views.SimStep{Rule: rt.Rule, Name: rt.Name, Matched: rt.Matched}
		if rt.Matched {
			step.Text = fmt.Sprintf("Rule %d matched → %s.", rt.Rule, d.Action)
		} else {
			step.Text = fmt.Sprintf("Rule %d: condition %d (%s) does not hold: %s.", rt.Rule, rt.Failed, rt.Condition, rt.Why)
		}
		res.Steps = append(res.Steps, step)
	}
	if d.Rule == 0 {
		res.Steps = append(res.Steps, views.SimStep{Text: "No rule matched → default " + d.Action.String() + "."})
	}
	if sim.AfterStepUp != nil {
		a := sim.AfterStepUp.Decision
		res.AfterStepUp = a.Action.String() + " — " + a.Reason
	}
	switch {
	case typedCountry != "":
		res.Country = "Country as entered: " + sim.Request.Country + "."
	case sim.Request.Country != "":
		res.Country = "Country from the IP address: " + sim.Request.Country + "."
	case sim.Request.IP.IsValid():
		res.Country = "No country is known for this address."
	}
	return res
}

func (h *Policies) renderEditorTrace(c echo.Context, id string, pf policyForm, res *views.SimResult, tr *policyeditor.Trace) error {
	props, err := h.editorPropsTrace(withAppPicker(c), id, pf.Base, pf.Doc, nil, res, pf.SimRaw, tr)
	if err != nil {
		return err
	}
	props.Note = pf.Note
	return render(c, http.StatusOK, views.PolicyEditor(h.page(c, titleOf(pf.Doc, id)), props))
}

func titleOf(doc policyeditor.Document, id string) string {
	if id == "" || doc.Name == "" {
		return "New policy"
	}
	return doc.Name
}

func (h *Policies) renderEditor(c echo.Context, status int, id string, base int, doc policyeditor.Document,
	errs policyeditor.FieldErrors, res *views.SimResult, sim views.SimProps) error {
	props, err := h.editorProps(withAppPicker(c), id, base, doc, errs, res, sim)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodPost {
		props.Note = strings.TrimSpace(c.FormValue("note")) // kept while the draft is edited
	}
	return render(c, status, views.PolicyEditor(h.page(c, titleOf(doc, id)), props))
}

func (h *Policies) editorProps(ctx context.Context, id string, base int, doc policyeditor.Document,
	errs policyeditor.FieldErrors, res *views.SimResult, sim views.SimProps) (views.PolicyEditorProps, error) {
	return h.editorPropsTrace(ctx, id, base, doc, errs, res, sim, nil)
}

func (h *Policies) editorPropsTrace(ctx context.Context, id string, base int, doc policyeditor.Document,
	errs policyeditor.FieldErrors, res *views.SimResult, sim views.SimProps, tr *policyeditor.Trace) (views.PolicyEditorProps, error) {
	props := editorProps(doc, errs, res, tr)
	props.ID, props.Base = id, base
	props.Action = "/admin/policies/new"
	if id != "" {
		props.Action = "/admin/policies/" + id
	}
	props.ReplayDays = "7"
	simErrs := sim.Errors
	props.Sim = sim
	props.Sim.Errors, props.Sim.Result = simErrs, res
	if err := h.pickers(ctx, &props.Pickers); err != nil {
		return props, err
	}
	if id != "" {
		if err := h.attachProps(ctx, id, &props); err != nil {
			return props, err
		}
		p, err := h.Store.Policy(ctx, id)
		if err != nil {
			return props, err
		}
		if props.Shadow, err = h.shadowProps(ctx, p); err != nil {
			return props, err
		}
	}
	return props, nil
}

// orgPickerSize bounds the organizations the editor's picker lists.
const orgPickerSize = 200

func (h *Policies) pickers(ctx context.Context, p *views.Pickers) error {
	p.Countries, p.Zones = policyeditor.CountryCodes(), commonZones
	// The first organizations by name; a condition may name any other
	// slug, which the editor keeps and shows as typed.
	orgs, _, err := h.Store.OrganizationPage(ctx, store.Page{Limit: orgPickerSize})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, o := range orgs {
		p.Orgs = append(p.Orgs, views.Option{Value: o.Slug, Label: o.Name + " (" + o.Slug + ")"})
		gs, err := h.Store.Groups(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if !seen[o.ID+"\x00"+g.Name] {
				seen[o.ID+"\x00"+g.Name] = true
				p.Groups = append(p.Groups, views.Option{Value: g.Name, Label: o.Name + " · " + views.SourceLabel(string(g.Source))})
			}
		}
	}
	plans, err := h.Store.Plans(ctx)
	if err != nil {
		return err
	}
	for _, pl := range plans {
		p.Plans = append(p.Plans, views.Option{Value: pl.Slug, Label: pl.Name})
	}
	sort.Slice(p.Orgs, func(i, j int) bool { return p.Orgs[i].Value < p.Orgs[j].Value })
	apps, err := h.Store.AppRefs(ctx, orgPickerSize)
	if err != nil {
		return err
	}
	for _, a := range apps {
		p.Clients = append(p.Clients, views.Option{Value: a.ClientID, Label: a.Name + " (" + a.OrgSlug + ")"})
	}
	return nil
}

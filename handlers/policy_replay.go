package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// The impact preview (replay of a draft or a saved version over the
// decision log) and report-only mode (a version decided beside the
// enforced one, with live disagreement counts and promote).

// replayLimit bounds a replay run from a page: a week of a busy portal.
const replayLimit = 5_000_000

// replayDays reads the preview's window, 1 to 90 days (default 7).
func replayDays(s string) (int, bool) {
	if strings.TrimSpace(s) == "" {
		return 7, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil && n >= 1 && n <= 90
}

// replay runs pol over the last days of the log: the decisions policyID
// made, or for a policy not saved yet those at the points of its kind.
func (h *Policies) replay(ctx context.Context, pol *policyeditor.Policy, policyID string, days int, now time.Time,
	progress func(int, time.Time)) views.ReplayProps {
	o := policyeditor.ReplayOptions{Since: now.Add(-time.Duration(days) * 24 * time.Hour), Until: now,
		PolicyID: policyID, Limit: replayLimit, Progress: progress}
	if policyID == "" {
		for _, p := range policyeditor.Points() {
			if p.Kind() == pol.Kind() {
				o.Points = append(o.Points, p)
			}
		}
	}
	rep, err := policyeditor.Replay(ctx, h.Store, pol, o)
	if err != nil {
		return views.ReplayProps{Error: "The decision log could not be read; try again."}
	}
	return replayProps(rep, days)
}

func replayProps(rep policyeditor.ReplayReport, days int) views.ReplayProps {
	r := views.ReplayProps{Replayed: rep.Replayed, Changed: rep.Changed, Limit: rep.Limit, Truncated: rep.Truncated,
		Window: fmt.Sprintf("over the last %d days", days), Elapsed: rep.Elapsed.Round(time.Millisecond).String()}
	if rep.Truncated {
		r.StoppedAt = rep.StoppedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	for _, c := range rep.Matrix {
		cell := views.ReplayCellProps{From: c.From, To: c.To, Count: c.Count, Changed: c.From != c.To}
		for _, s := range c.Samples {
			who := s.Subject
			if who == "" {
				who = s.UserID
			}
			cell.Samples = append(cell.Samples, views.ReplaySampleProps{ID: s.DecisionID, At: s.At.UTC().Format("2006-01-02 15:04:05"),
				Point: s.Point, Who: who, Client: s.ClientID, Before: ruleText(s.BeforeRule, s.Before), After: ruleText(s.AfterRule, s.After)})
		}
		r.Cells = append(r.Cells, cell)
	}
	for _, a := range rep.People {
		r.People = append(r.People, views.AffectedProps{Key: a.Key, Changed: a.Changed})
	}
	for _, a := range rep.Apps {
		r.Apps = append(r.Apps, views.AffectedProps{Key: a.Key, Changed: a.Changed})
	}
	return r
}

func ruleText(rule int, action string) string {
	if rule == 0 {
		return "the default (" + action + ")"
	}
	return fmt.Sprintf("rule %d (%s)", rule, action)
}

// replayDraft is the editor's "Preview impact": the draft in the form,
// compiled, over the log.
func (h *Policies) replayDraft(c echo.Context, id string, pf policyForm, days string) error {
	n, ok := replayDays(days)
	var res views.ReplayProps
	var prog *views.ReplayProgress
	pol, err := policyeditor.Compile(pf.Doc)
	switch {
	case !ok:
		res.Error = "Choose a number of days between 1 and 90."
	case len(pf.parseErrs) > 0 || err != nil:
		res.Error = "The draft has problems; fix them to preview its impact."
	default:
		res, prog = h.replayRun(c, pol, id, n, "")
	}
	props, perr := h.editorProps(withAppPicker(c), id, pf.Base, pf.Doc, nil, nil, pf.SimRaw)
	if perr != nil {
		return perr
	}
	props.ReplayDays, props.Replay, props.ReplayProgress = days, &res, prog
	status := http.StatusOK
	if res.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	return render(c, status, views.PolicyEditor(h.page(c, titleOf(pf.Doc, id)), props))
}

// replayVersion is the impact preview of a saved version.
func (h *Policies) replayVersion(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.Store.Policy(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.QueryParam("version"))
	if err != nil {
		return &PageError{Status: http.StatusBadRequest, Message: "Choose a version to preview."}
	}
	days, ok := replayDays(c.QueryParam("days"))
	if !ok {
		return &PageError{Status: http.StatusBadRequest, Message: "Choose a number of days between 1 and 90."}
	}
	v, err := h.Store.PolicyVersion(ctx, p.ID, n)
	if err != nil {
		return err
	}
	pol, err := policyeditor.CompileJSON(v.Document)
	if err != nil {
		return err
	}
	res, prog := h.replayRun(c, pol, p.ID, days, "/admin/policies/"+p.ID+"?decision=")
	title := fmt.Sprintf("Impact of %s version %d", p.Name, n)
	return render(c, http.StatusOK, views.ReplayPage(h.page(c, title), p.ID, title, res, prog))
}

// simFromDecision fills the simulator with a logged decision's request.
func (h *Policies) simFromDecision(ctx context.Context, ref string) (views.SimProps, error) {
	d, err := h.Store.Decision(ctx, "", ref)
	if err != nil {
		return views.SimProps{}, err
	}
	var dc policyeditor.DecisionContext
	if err := json.Unmarshal(d.Context, &dc); err != nil {
		return views.SimProps{}, fmt.Errorf("decision %s context: %w", ref, err)
	}
	// The simulator takes minutes (what time conditions compare); the MFA
	// age is counted from that minute, so mfa conditions see the same time.
	at := d.At.UTC().Truncate(time.Minute)
	s := views.SimProps{Groups: strings.Join(dc.Groups, ", "), IP: dc.IP, Country: dc.Country,
		Time: at.Format("2006-01-02T15:04"), TZ: "UTC", Locations: strings.Join(dc.Locations, "\n"), Org: dc.Org, Plan: dc.Plan,
		Client: d.ClientID, Scopes: strings.Join(dc.Scopes, ", "), Method: dc.Method, Path: dc.Path, Host: dc.Host}
	if !dc.MFAAt.IsZero() && !at.Before(dc.MFAAt) {
		s.MFAAge = at.Sub(dc.MFAAt).String()
	}
	var attrs []string
	for k, v := range dc.Attributes {
		attrs = append(attrs, k+"="+v)
	}
	sort.Strings(attrs)
	s.Attributes = strings.Join(attrs, "\n")
	if _, err := netip.ParseAddr(s.IP); err != nil {
		s.IP = ""
	}
	return s, nil
}

// simulateDecision runs the simulator on a logged decision: with the draft
// in the form (a sample button of the preview), or the current version.
func (h *Policies) simulateDecision(c echo.Context, id string, pf policyForm, ref string) error {
	raw, err := h.simFromDecision(c.Request().Context(), ref)
	if errors.Is(err, store.ErrNotFound) {
		return &PageError{Status: http.StatusNotFound, Message: "That decision is not in the log (any more)."}
	}
	if err != nil {
		return err
	}
	form := map[string][]string{"sim.groups": {raw.Groups}, "sim.ip": {raw.IP}, "sim.country": {raw.Country},
		"sim.time": {raw.Time}, "sim.tz": {raw.TZ}, "sim.mfa_age": {raw.MFAAge}, "sim.locations": {raw.Locations}, "sim.org": {raw.Org},
		"sim.plan": {raw.Plan}, "sim.client": {raw.Client}, "sim.scopes": {raw.Scopes}, "sim.attributes": {raw.Attributes},
		"sim.method": {raw.Method}, "sim.path": {raw.Path}, "sim.host": {raw.Host}}
	sim := parsePolicyForm(form)
	pf.Sim, pf.SimRaw = sim.Sim, sim.SimRaw
	return h.simulate(c, id, pf)
}

// editDecision is GET /admin/policies/:id?decision=REF: the current version
// with the simulator run on that logged decision.
func (h *Policies) editDecision(c echo.Context, ref string) error {
	_, v, doc, err := h.Service.Current(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return h.simulateDecision(c, c.Param("id"), policyForm{Doc: doc, Base: v.Version}, ref)
}

// saveShadow is the editor's "Save as report-only version".
func (h *Policies) saveShadow(c echo.Context, id string, pf policyForm) error {
	if id == "" {
		return &PageError{Status: http.StatusBadRequest, Message: "Save the policy first; a new policy has nothing to run beside."}
	}
	if len(pf.parseErrs) > 0 {
		return h.save(c, id, pf) // reports the same problems the same way
	}
	_, err := h.Service.SaveShadow(c.Request().Context(), actorOf(viewerFrom(c)), id, pf.Doc, "report-only")
	var fe policyeditor.FieldErrors
	if errors.As(err, &fe) {
		return h.renderEditor(c, http.StatusUnprocessableEntity, id, pf.Base, pf.Doc, fe, nil, pf.SimRaw)
	}
	if err != nil {
		return err
	}
	return redirectAfterPost(c, "/admin/policies/"+id+"?done=shadowed#shadow")
}

func (h *Policies) attachShadow(c echo.Context) error {
	n, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "Choose a version."}
	}
	err = h.Service.AttachShadow(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"), n)
	switch {
	case errors.Is(err, store.ErrConflict):
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "That version is the enforced one; choose another.", Err: err}
	case errors.Is(err, policyeditor.ErrWrongKind):
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "That version is of another kind than the policy.", Err: err}
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id")+"?done=shadowed#shadow")
}

func (h *Policies) detachShadow(c echo.Context) error {
	if err := h.Service.DetachShadow(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id")+"?done=shadow-detached")
}

func (h *Policies) promote(c echo.Context) error {
	n, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "Choose the version to promote."}
	}
	_, err = h.Service.Promote(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"), n)
	if errors.Is(err, policyeditor.ErrNotShadow) {
		return &PageError{Status: http.StatusConflict, Message: "That version is no longer in report-only mode (promoted or replaced meanwhile).", Err: err}
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id")+"?done=promoted")
}

// shadowProps fills the report-only section of policy p's page.
func (h *Policies) shadowProps(ctx context.Context, p store.Policy) (*views.ShadowProps, error) {
	dis, err := h.tally.Disagreements(ctx, h.Store, p, h.Now())
	if err != nil {
		return nil, err
	}
	sp := &views.ShadowProps{Version: dis.Version, Total: dis.Total, Disagreed: dis.Disagreed}
	if !dis.Since.IsZero() {
		sp.Since = dis.Since.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	for _, c := range dis.Cells {
		sp.Cells = append(sp.Cells, views.ShadowCellProps{Enforced: c.Enforced, Shadow: c.Shadow, Count: c.Count})
	}
	for _, c := range dis.Where {
		sp.Where = append(sp.Where, views.ShadowCellProps{Point: c.Point, ClientID: c.ClientID, Count: c.Count})
	}
	if dis.Version == 0 {
		vs, err := h.Store.PolicyVersions(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.Version != p.CurrentVersion {
				sp.Versions = append(sp.Versions, views.Option{Value: strconv.Itoa(v.Version),
					Label: fmt.Sprintf("%d (%s, %s)", v.Version, v.CreatedAt.UTC().Format("2006-01-02 15:04"), v.Author)})
			}
		}
	}
	return sp, nil
}

// shadow is the report-only section alone, for its live refresh.
func (h *Policies) shadow(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.Store.Policy(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	sp, err := h.shadowProps(ctx, p)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ShadowSection(h.page(c, p.Name), views.PolicyEditorProps{ID: p.ID, Base: p.CurrentVersion, Shadow: sp}))
}

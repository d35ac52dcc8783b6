package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

func (h *Policies) versions(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.Store.Policy(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	vs, err := h.Store.PolicyVersions(ctx, p.ID)
	if err != nil {
		return err
	}
	props := views.PolicyVersionsProps{ID: p.ID, Name: p.Name, Current: p.CurrentVersion, A: max(p.CurrentVersion-1, 1), B: p.CurrentVersion}
	for _, v := range vs {
		props.Versions = append(props.Versions, views.VersionRow{Version: v.Version, Author: v.Author,
			At: v.CreatedAt.Format("2006-01-02 15:04:05"), Note: v.Note})
	}
	if c.QueryParam("a") != "" || c.QueryParam("b") != "" {
		a, aerr := strconv.Atoi(c.QueryParam("a"))
		b, berr := strconv.Atoi(c.QueryParam("b"))
		if aerr != nil || berr != nil {
			return &PageError{Status: http.StatusBadRequest, Message: "Choose two version numbers to compare."}
		}
		diff, err := h.Service.Diff(ctx, p.ID, a, b)
		if err != nil {
			return err
		}
		props.A, props.B, props.Diff = a, b, []views.DiffRow{}
		for _, d := range diff {
			props.Diff = append(props.Diff, views.DiffRow{Op: string(rune(d.Op)), Text: d.Text})
		}
	}
	return render(c, http.StatusOK, views.PolicyVersions(h.page(c, "Versions of "+p.Name), props))
}

func (h *Policies) restore(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	saved, err := h.Service.Restore(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"), n)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/policies/"+saved.Policy.ID+"?done=restored")
}

func (h *Policies) export(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.Store.Policy(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	doc, err := h.Service.Export(ctx, p.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+fileName(p.Name)+`.json"`)
	return c.Blob(http.StatusOK, "application/json", doc)
}

// fileName keeps letters, digits and dashes, so a policy name cannot break
// out of the Content-Disposition header.
func fileName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	if s := strings.Trim(b.String(), "-"); s != "" {
		return s
	}
	return "policy"
}

func (h *Policies) importForm(c echo.Context) error {
	return render(c, http.StatusOK, views.PolicyImport(h.page(c, "Import a policy"), views.PolicyImportProps{}))
}

// maxPolicyDocument bounds an uploaded document; real ones are a few KB.
const maxPolicyDocument = 512 << 10

func (h *Policies) importPost(c echo.Context) error {
	data := []byte(c.FormValue("json"))
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, maxPolicyDocument+1)); err != nil {
			return err
		}
	}
	props := views.PolicyImportProps{JSON: string(data)}
	if strings.TrimSpace(string(data)) == "" {
		props.Problems = []string{"Choose a JSON file or paste a document."}
		return render(c, http.StatusUnprocessableEntity, views.PolicyImport(h.page(c, "Import a policy"), props))
	}
	if len(data) > maxPolicyDocument {
		props.JSON, props.Problems = "", []string{"The document is too large."}
		return render(c, http.StatusUnprocessableEntity, views.PolicyImport(h.page(c, "Import a policy"), props))
	}
	saved, err := h.Service.Import(c.Request().Context(), actorOf(viewerFrom(c)), data)
	var fe policyeditor.FieldErrors
	if errors.As(err, &fe) {
		for _, e := range fe {
			props.Problems = append(props.Problems, e.Error())
		}
		return render(c, http.StatusUnprocessableEntity, views.PolicyImport(h.page(c, "Import a policy"), props))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/policies/"+saved.Policy.ID+"?done=imported")
}

// parseTarget reads an attach/detach target: "app:CLIENT_ID", "portal",
// "m2m", "registration" or "registration:PLAN_ID".
func parseTarget(s string) (policyeditor.Target, bool) {
	kind, arg, _ := strings.Cut(s, ":")
	switch {
	case kind == "app" && arg != "":
		return policyeditor.Target{ClientID: arg}, true
	case kind == "portal" && arg == "":
		return policyeditor.Target{Point: store.AttachPortal}, true
	case kind == "m2m" && arg == "":
		return policyeditor.Target{Point: store.AttachM2M}, true
	case kind == "registration":
		return policyeditor.Target{Point: store.AttachRegistration, Plan: arg}, true
	}
	return policyeditor.Target{}, false
}

func (h *Policies) attach(c echo.Context) error {
	if c.FormValue("target") == "route" {
		r := store.APIRoute{PathPrefix: c.FormValue("path_prefix"), Host: c.FormValue("host"), API: c.FormValue("api")}
		err := h.Service.AttachRoute(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"), r)
		if errors.Is(err, policyeditor.ErrWrongKind) {
			return &PageError{Status: http.StatusUnprocessableEntity, Message: "Only API request policies can be attached to API routes.", Err: err}
		}
		if errors.Is(err, policyeditor.ErrUnknownAPI) {
			return &PageError{Status: http.StatusUnprocessableEntity, Message: "No API is registered with that identifier.", Err: err}
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return &PageError{Status: http.StatusUnprocessableEntity, Message: "The route needs a plain path prefix such as /customers, and a host without port.", Err: err}
		}
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id")+"?done=attached")
	}
	t, ok := parseTarget(c.FormValue("target"))
	if !ok {
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "Choose where to attach the policy."}
	}
	err := h.Service.Attach(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"), t)
	if errors.Is(err, policyeditor.ErrWrongKind) {
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "This policy's kind does not fit there: apps take user-access policies, service apps and machine to machine take machine-to-machine ones, registration takes client-registration ones.", Err: err}
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id")+"?done=attached")
}

func (h *Policies) detach(c echo.Context) error {
	if id, ok := strings.CutPrefix(c.FormValue("target"), "route:"); ok {
		u, err := h.Service.Usage(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		for _, r := range u.Routes {
			// Only a route this policy holds, so a stale page cannot detach
			// another policy attached there since.
			if r.ID == id {
				if err := h.Service.DetachRoute(c.Request().Context(), actorOf(viewerFrom(c)), r); err != nil {
					return err
				}
				return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id")+"?done=detached")
			}
		}
		return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id"))
	}
	t, ok := parseTarget(c.FormValue("target"))
	if !ok {
		return &PageError{Status: http.StatusUnprocessableEntity, Message: "Choose what to detach."}
	}
	// Only detach what this policy holds, so a stale page cannot detach
	// another policy that was attached since.
	holds, err := h.Service.Holds(c.Request().Context(), c.Param("id"), t)
	if err != nil {
		return err
	}
	if !holds {
		return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id"))
	}
	if err := h.Service.Detach(c.Request().Context(), actorOf(viewerFrom(c)), t); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/policies/"+c.Param("id")+"?done=detached")
}

// appPickerKey carries the attach picker's page (app_q, app_after,
// app_before) from the request to attachProps.
type appPickerKey struct{}

// appPickerSize is how many applications the attach picker offers at once;
// the rest are found by searching or paging.
const appPickerSize = 50

// withAppPicker puts the attach picker's page into the request context.
func withAppPicker(c echo.Context) context.Context {
	p := pageNamed(c, "app_")
	p.Limit = appPickerSize
	return context.WithValue(c.Request().Context(), appPickerKey{}, p)
}

// attachProps fills where the policy is used and where it could go.
func (h *Policies) attachProps(ctx context.Context, id string, props *views.PolicyEditorProps) error {
	p, err := h.Store.Policy(ctx, id)
	if err != nil {
		return err
	}
	u, err := h.Service.Usage(ctx, id)
	if err != nil {
		return err
	}
	props.Usage = usageLabels(u)
	for _, a := range u.Apps {
		props.Detach = append(props.Detach, views.Option{Value: "app:" + a.ClientID, Label: a.Name + " (app " + a.ClientID + ")"})
	}
	for _, a := range u.Points {
		v := string(a.Point)
		if a.Target != "" {
			v += ":" + a.Target
		}
		props.Detach = append(props.Detach, views.Option{Value: v, Label: policyeditor.Target{Point: a.Point, Plan: a.Target}.String()})
	}
	for _, r := range u.Routes {
		props.Detach = append(props.Detach, views.Option{Value: "route:" + r.ID, Label: policyeditor.RouteString(r)})
	}
	props.RouteAttach = policyeditor.Kind(p.Kind) == policyeditor.KindAPIRequest
	if props.RouteAttach {
		apis, err := h.Store.APIs(ctx)
		if err != nil {
			return err
		}
		for _, a := range apis {
			props.APIs = append(props.APIs, views.Option{Value: a.Identifier, Label: a.Name + " — " + a.Identifier})
		}
	}
	switch policyeditor.Kind(p.Kind) {
	case policyeditor.KindUserAccess:
		props.Attach = append(props.Attach, views.Option{Value: "portal", Label: "the portal's sign-in"})
	case policyeditor.KindMachineToMachine:
		props.Attach = append(props.Attach, views.Option{Value: "m2m", Label: "machine to machine (every service app without its own)"})
	case policyeditor.KindClientRegistration:
		props.Attach = append(props.Attach, views.Option{Value: "registration", Label: "client registration (all plans)"})
		plans, err := h.Store.Plans(ctx)
		if err != nil {
			return err
		}
		for _, pl := range plans {
			props.Attach = append(props.Attach, views.Option{Value: "registration:" + pl.ID, Label: "client registration for plan " + pl.Name})
		}
	}
	page, _ := ctx.Value(appPickerKey{}).(store.Page)
	if page.Limit == 0 {
		page.Limit = appPickerSize
	}
	apps, info, err := h.Service.Attachable(ctx, policyeditor.Kind(p.Kind), page)
	if err != nil {
		return err
	}
	props.AppQ = page.Q
	link := func(param, cursor string) string {
		if cursor == "" {
			return ""
		}
		q := url.Values{"app_q": {page.Q}, param: {cursor}}
		return "/admin/policies/" + url.PathEscape(id) + "?" + q.Encode() + "#attachments"
	}
	props.AppPager = views.Pager{Prev: link("app_before", info.Prev), Next: link("app_after", info.Next)}
	for _, a := range apps {
		label := fmt.Sprintf("app %s — %s (%s)", a.ClientID, a.Name, a.OrgSlug)
		if a.PolicyID != "" && a.PolicyID != id {
			label += " — replaces its policy"
		}
		if a.PolicyID != id {
			props.Attach = append(props.Attach, views.Option{Value: "app:" + a.ClientID, Label: label})
		}
	}
	return nil
}

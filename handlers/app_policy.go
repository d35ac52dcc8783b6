package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// AppPolicy is the "Access policy" setting on an app's page.
//
// Who may change it: attaching a policy is a platform-admin authoring act
// (DESIGN.md: policies are written and attached by platform admins, and a
// policy may be shared by apps of many organizations), so only platform
// admins get the picker and the POST. An org's developers and admins own
// the app but not the rules it is held to; they see which policy applies,
// read-only, so a refusal is not a mystery to them. Apps are loaded through
// the viewer's organization, as on the rest of the Apps pages; attaching to
// another organization's app goes through the policy's own page.
type AppPolicy struct {
	Store   *store.Store
	Service *policyeditor.Service
}

// Mount registers the route, for platform admins only.
func (h *AppPolicy) Mount(g *echo.Group) {
	if h.Service == nil {
		h.Service = &policyeditor.Service{Store: h.Store}
	}
	g.POST("/apps/:client_id/policy", h.set, requireUser, requireRole(platformAdmins))
}

// policyKindFor is the kind of policy an app takes: machine to machine for
// service apps, user access for the rest (policyeditor.Service.Attach
// checks the same).
func policyKindFor(cl store.Client) policyeditor.Kind {
	if cl.Type == store.ClientService {
		return policyeditor.KindMachineToMachine
	}
	return policyeditor.KindUserAccess
}

// appPolicyProps is the app page's access-policy section for viewer v.
func appPolicyProps(c echo.Context, st *store.Store, v *Viewer, cl store.Client) (views.AppPolicy, error) {
	ctx := c.Request().Context()
	out := views.AppPolicy{ClientID: cl.ClientID, CanChoose: v.User.PlatformAdmin, Kind: string(policyKindFor(cl))}
	if cl.PolicyID != "" {
		p, err := st.Policy(ctx, cl.PolicyID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
		out.Current = p.Name
	}
	if !out.CanChoose {
		return out, nil
	}
	ps, err := st.Policies(ctx)
	if err != nil {
		return out, err
	}
	out.Options = append(out.Options, views.Option{Value: "", Label: "none", Selected: cl.PolicyID == ""})
	for _, p := range ps {
		if p.Kind == string(policyKindFor(cl)) {
			out.Options = append(out.Options, views.Option{Value: p.ID, Label: p.Name, Selected: p.ID == cl.PolicyID})
		}
	}
	return out, nil
}

// set attaches the chosen policy to the app, or detaches with "none"; the
// service checks the kind and audits the change.
func (h *AppPolicy) set(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	cl, err := h.Store.ClientByClientID(ctx, v.Org.ID, c.Param("client_id"))
	if err != nil {
		return err
	}
	t := policyeditor.Target{ClientID: cl.ClientID}
	id := c.FormValue("policy")
	switch {
	case id == "" && cl.PolicyID == "":
		// Nothing attached, nothing to detach.
	case id == "":
		err = h.Service.Detach(ctx, actorOf(v), t)
	case id != cl.PolicyID:
		err = h.Service.Attach(ctx, actorOf(v), id, t)
	}
	switch {
	case errors.Is(err, policyeditor.ErrWrongKind):
		return &PageError{Status: http.StatusUnprocessableEntity, Err: err,
			Message: "That policy's kind does not fit this app: service apps take machine-to-machine policies, other apps user-access ones. Nothing was changed."}
	case errors.Is(err, store.ErrNotFound):
		return &PageError{Status: http.StatusUnprocessableEntity, Err: err, Message: "That policy no longer exists. Nothing was changed."}
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?done=saved")
}

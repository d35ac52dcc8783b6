package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/store"
	"portico/views"
)

// appSharer is the registrar's ability to share an app with other
// organizations (*authserver.Registrar has it).
type appSharer interface {
	Share(ctx context.Context, orgID, clientID, planID string, actor authserver.Actor) error
	Unshare(ctx context.Context, orgID, clientID, planID string, actor authserver.Actor) error
}

var errShareTarget = errors.New("unknown share target")

// shareTarget reads "all" or "plan:<slug>" into a plan ID ("" for all).
func (h *Apps) shareTarget(ctx context.Context, target string) (string, error) {
	if target == "all" {
		return "", nil
	}
	slug, ok := strings.CutPrefix(target, "plan:")
	if !ok {
		return "", errShareTarget
	}
	p, err := h.Store.PlanBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return "", errShareTarget
	}
	return p.ID, err
}

// share and unshare put an app on (or take it off) the dashboards of every
// organization or of those on a plan. Only platform admins may: an
// organization sharing its own app with every other partner would put it
// in front of people who never chose it.
func (h *Apps) share(c echo.Context) error   { return h.changeShare(c, true) }
func (h *Apps) unshare(c echo.Context) error { return h.changeShare(c, false) }

func (h *Apps) changeShare(c echo.Context, share bool) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	if !v.User.PlatformAdmin {
		return &PageError{Status: http.StatusForbidden, Message: "Only platform admins share apps with other organizations."}
	}
	sh, ok := h.Registrar.(appSharer)
	if !ok {
		return &PageError{Status: http.StatusNotImplemented, Message: "This portal cannot share apps."}
	}
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	planID, err := h.shareTarget(ctx, c.FormValue("target"))
	if errors.Is(err, errShareTarget) {
		return &PageError{Status: http.StatusUnprocessableEntity, Err: err, Message: "Choose all organizations or one of the plans. Nothing was changed."}
	} else if err != nil {
		return err
	}
	done := "shared"
	if share {
		err = sh.Share(ctx, v.Org.ID, cl.ClientID, planID, appActor(v))
	} else {
		done = "unshared"
		err = sh.Unshare(ctx, v.Org.ID, cl.ClientID, planID, appActor(v))
		if errors.Is(err, store.ErrNotFound) {
			err = nil // already not shared: the outcome the admin asked for
		}
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?done="+done)
}

// sharingProps lists an app's shares and the plans it could be shared
// with, for platform admins.
func (h *Apps) sharingProps(ctx context.Context, cl store.Client) (*views.AppSharing, error) {
	shares, err := h.Store.ClientShares(ctx, cl.OrgID, cl.ClientID)
	if err != nil {
		return nil, err
	}
	plans, err := h.Store.Plans(ctx)
	if err != nil {
		return nil, err
	}
	out := &views.AppSharing{}
	byID := map[string]store.Plan{}
	for _, p := range plans {
		byID[p.ID] = p
		out.Plans = append(out.Plans, views.PlanOption{Slug: p.Slug, Name: p.Name})
	}
	for _, id := range shares {
		if id == "" {
			out.Shares = append(out.Shares, views.ShareRow{Target: "all", Label: "every organization"})
		} else if p, ok := byID[id]; ok {
			out.Shares = append(out.Shares, views.ShareRow{Target: "plan:" + p.Slug, Label: "organizations on plan " + p.Name})
		}
	}
	return out, nil
}

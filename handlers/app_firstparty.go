package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/authserver"
	"portico/store"
)

// firstPartySetter is the registrar's ability to mark a client first-party
// (*authserver.Registrar has it).
type firstPartySetter interface {
	SetFirstParty(ctx context.Context, orgID, clientID string, actor authserver.Actor, firstParty bool) (store.Client, error)
}

// setFirstParty marks an app first-party (no consent page) or third-party.
// Only platform admins may: an organization's own developers deciding
// their app needs no consent would defeat the point.
func (h *Apps) setFirstParty(c echo.Context) error {
	v := viewerFrom(c)
	if !v.User.PlatformAdmin {
		return &PageError{Status: http.StatusForbidden, Message: "Only platform admins decide which apps are first-party."}
	}
	fp, ok := h.Registrar.(firstPartySetter)
	if !ok {
		return &PageError{Status: http.StatusNotImplemented, Message: "This portal cannot change that."}
	}
	cl, err := h.client(c)
	if err != nil {
		return err
	}
	first := c.FormValue("first_party") == "true"
	if _, err := fp.SetFirstParty(c.Request().Context(), v.Org.ID, cl.ClientID, appActor(v), first); err != nil {
		return err
	}
	done := "third_party"
	if first {
		done = "first_party"
	}
	return c.Redirect(http.StatusSeeOther, "/apps/"+cl.ClientID+"?done="+done)
}

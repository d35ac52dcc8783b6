package handlers

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"portico/federation"
	"portico/store"
	"portico/views"
)

const msgCallbackLost = "This sign-in has expired or was started in another browser. Please start again."

// pendingFromState finds the pending sign-in named by state and checks it
// was started in this browser. The connection comes from that row, never
// from the request.
func (h *Login) pendingFromState(c echo.Context, state string, checkBrowser bool) (store.PendingLogin, store.Connection, bool, error) {
	ctx := c.Request().Context()
	var x store.Connection
	if state == "" {
		return store.PendingLogin{}, x, false, nil
	}
	p, err := h.Store.PendingLoginByState(ctx, hashToken(state), h.Now())
	if errors.Is(err, store.ErrNotFound) {
		return p, x, false, nil
	}
	if err != nil {
		return p, x, false, err
	}
	if checkBrowser && !h.sameBrowser(c, p.BrowserHash) {
		return p, x, false, nil
	}
	if p.ConnectionID == "" {
		return p, x, true, nil
	}
	x, err = h.Store.Connection(ctx, p.OrgID, p.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return p, x, false, nil
	}
	return p, x, err == nil, err
}

// callback is where upstreams return the browser.
func (h *Login) callback(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.QueryParam("state")
	p, x, ok, err := h.pendingFromState(c, state, true)
	if err != nil {
		return err
	}
	if !ok || p.ConnectionID == "" || p.UserID != "" { // a UserID means it waits for a second factor, not an upstream
		h.Log.Info("callback without a matching pending sign-in", "ip", c.RealIP())
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	f := views.LoginForm{AuthRequest: p.AuthRequest, Next: p.Next}
	// Each pending sign-in is used once, whatever happens next.
	if took, err := h.Store.TakePendingLogin(ctx, p.ID); err != nil || !took {
		if err != nil {
			return err
		}
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	var id federation.Identity
	if len(p.Identity) > 0 {
		raw, err := h.Sealer.Open(p.Identity, pendingPurpose(p.ID)+":identity")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &id); err != nil {
			return err
		}
	} else {
		id, err = h.handleUpstream(c, p, x)
		if err != nil {
			return h.signInError(c, f, x, err)
		}
	}
	u, err := h.Provisioner.Provision(ctx, x, id)
	if err != nil {
		return h.signInError(c, f, x, err)
	}
	h.Log.Info("signed in through connection", "user", u.ID, "org", x.OrgID, "connection", x.ID, "ip", c.RealIP())
	if len(id.AMR) > 0 || id.ACR != "" {
		c.Set(upstreamAuthKey, &store.SessionAuth{UpstreamAMR: id.AMR, UpstreamACR: id.ACR})
	}
	return h.finish(c, u, x.ID, f)
}

// handleUpstream lets the connector check the upstream's answer.
func (h *Login) handleUpstream(c echo.Context, p store.PendingLogin, x store.Connection) (federation.Identity, error) {
	ctx := c.Request().Context()
	conn, err := h.Connectors.Open(ctx, x)
	if err != nil {
		return federation.Identity{}, err
	}
	cc, ok := conn.(federation.CallbackConnector)
	if !ok {
		return federation.Identity{}, federation.Upstream(errors.New("connection has no callback"))
	}
	data, err := h.Sealer.Open(p.ConnData, pendingPurpose(p.ID))
	if err != nil {
		return federation.Identity{}, err
	}
	return cc.HandleCallback(ctx, data, c.Request())
}

// samlACS receives a SAML response by cross-site POST. Browsers do not send
// SameSite=Lax cookies with it, so the response is checked here against the
// pending sign-in named by RelayState, kept sealed on that row, and the
// browser is sent on to the callback, a top-level GET where the cookie
// binding to the browser that started the sign-in is checked.
func (h *Login) samlACS(c echo.Context) error {
	ctx := c.Request().Context()
	state := c.FormValue("RelayState")
	p, x, ok, err := h.pendingFromState(c, state, false)
	if err != nil {
		return err
	}
	if !ok || p.ConnectionID == "" || len(p.Identity) > 0 {
		h.Log.Info("SAML response without a matching pending sign-in", "ip", c.RealIP())
		return h.render(c, http.StatusBadRequest, views.LoginForm{Error: msgCallbackLost})
	}
	id, err := h.handleUpstream(c, p, x)
	if err != nil {
		h.Store.TakePendingLogin(ctx, p.ID)
		return h.signInError(c, views.LoginForm{AuthRequest: p.AuthRequest, Next: p.Next}, x, err)
	}
	raw, _ := json.Marshal(id)
	if err := h.Store.SetPendingIdentity(ctx, p.ID, h.Sealer.Seal(raw, pendingPurpose(p.ID)+":identity")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, CallbackPath+"?state="+state)
}

// samlMetadata serves a SAML connection's SP metadata for the partner to
// import into their IdP. It holds only public data.
func (h *Login) samlMetadata(c echo.Context) error {
	ctx := c.Request().Context()
	x, err := h.Store.ConnectionByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	conn, err := h.Connectors.Open(ctx, x)
	if err != nil {
		h.Log.Error("opening connection for metadata failed", "connection", x.ID, "err", err)
		return &PageError{Status: http.StatusBadGateway, Message: msgOptionBroken, Err: err}
	}
	mp, ok := conn.(federation.MetadataProvider)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	b, err := mp.Metadata()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/samlmetadata+xml", b)
}

package adminapi

import (
	"net/http"
	"time"

	"portico/partners"
	"portico/store"
)

// TokenBody makes an API credential: org (slug or ID) scopes it to one
// organization, "" to the platform; client_id makes a grant to that
// client's client-credentials tokens instead of a bearer token.
type TokenBody struct {
	Name          string `json:"name"`
	Org           string `json:"org,omitempty"`
	Role          string `json:"role"`
	ExpiresInDays int    `json:"expires_in_days,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
}

// NewTokenOut is a created credential; token (the secret) appears only in
// this answer.
type NewTokenOut struct {
	store.APIToken
	Token string `json:"token,omitempty"`
}

func (a *API) listTokens(c *call) error {
	orgID := c.p.Token.OrgID
	if q := c.QueryParam("org"); q != "" {
		o, err := a.orgParam(c.ctx(), q)
		if err != nil {
			return err
		}
		if orgID != "" && o.ID != orgID {
			return problem{Status: http.StatusNotFound, Detail: "No such organization."}
		}
		orgID = o.ID
	}
	ts, err := a.partners.APITokens(c.ctx(), c.manager(), orgID)
	if err != nil {
		return err
	}
	return list(c, ts, store.PageInfo{})
}

func (a *API) createToken(c *call) error {
	var b TokenBody
	if err := c.bind(&b); err != nil {
		return err
	}
	in := partners.APITokenInput{Name: b.Name, Role: store.APITokenRole(b.Role), ClientID: b.ClientID,
		TTL: time.Duration(b.ExpiresInDays) * 24 * time.Hour}
	switch {
	case b.Org != "":
		o, err := a.orgParam(c.ctx(), b.Org)
		if err != nil || (c.p.Token.OrgID != "" && o.ID != c.p.Token.OrgID) {
			// The same answer for another organization as for none.
			return partners.FieldErrors{"org": "No such organization."}
		}
		in.OrgID = o.ID
	case c.p.Token.OrgID != "":
		// A scoped credential makes credentials of its own organization.
		in.OrgID = c.p.Token.OrgID
	}
	nt, err := a.partners.CreateAPIToken(c.ctx(), c.manager(), in)
	if err != nil {
		return err
	}
	return c.created("/tokens/"+nt.Token.ID, NewTokenOut{APIToken: nt.Token, Token: nt.Secret})
}

func (a *API) revokeToken(c *call) error {
	if _, err := a.partners.RevokeAPIToken(c.ctx(), c.manager(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

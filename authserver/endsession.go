package authserver

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// endSession is OpenID Connect RP-Initiated Logout. The portal owns the
// session, so the browser goes to Config.LogoutURL with a logout ticket
// (logout_ticket.go) naming where to go next. post_logout_redirect_uri is
// honoured only when it is registered, exactly, for the client named by the
// id_token_hint or by client_id; the ticket records which, because without
// a hint (anyone can name a client_id) the portal sends the browser on only
// after a click.
func (s *Server) endSession(ctx context.Context, req *oidc.EndSessionRequest) (*op.Redirect, error) {
	clientID := req.ClientID
	hinted := false
	if req.IdTokenHint != "" {
		payload, typ, err := s.verifyOwn(ctx, req.IdTokenHint) // expired hints are fine
		if err != nil || typ != typJWT {
			return nil, invalidRequest("id_token_hint is not an ID token issued here")
		}
		var c struct {
			Audience oidc.Audience `json:"aud"`
			Issuer   string        `json:"iss"`
			AZP      string        `json:"azp"`
		}
		if json.Unmarshal(payload, &c) != nil || c.Issuer != s.cfg.Issuer || len(c.Audience) == 0 || c.AZP == "" {
			return nil, invalidRequest("id_token_hint is not an ID token issued here")
		}
		if clientID != "" && !slices.Contains(c.Audience, clientID) {
			return nil, invalidRequest("client_id does not match id_token_hint")
		}
		clientID, hinted = c.AZP, true
	}
	ticket := ""
	if req.PostLogoutRedirectURI != "" {
		if clientID == "" {
			return nil, invalidRequest("post_logout_redirect_uri needs id_token_hint or client_id")
		}
		e, err := s.client(ctx, clientID)
		if err != nil || !e.client.Enabled || !slices.Contains(e.client.PostLogoutRedirectURIs, req.PostLogoutRedirectURI) {
			return nil, invalidRequest("post_logout_redirect_uri is not registered for this client")
		}
		ticket = s.logoutTicket(logoutTicket{Client: clientID, URI: req.PostLogoutRedirectURI, State: req.State,
			Hinted: hinted, Expiry: s.now().Add(logoutTicketLife).Unix()})
	}
	if s.cfg.LogoutURL != nil {
		return op.NewRedirect(s.cfg.LogoutURL(ticket)), nil
	}
	// Without a portal to ask, only a hinted request leaves for the client.
	if ticket != "" && hinted {
		return op.NewRedirect(withLogoutState(req.PostLogoutRedirectURI, req.State)), nil
	}
	return op.NewRedirect(s.cfg.Issuer + "/"), nil
}

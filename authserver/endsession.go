package authserver

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// endSession is OpenID Connect RP-Initiated Logout. The portal owns the
// session, so the browser goes to Config.LogoutURL with where to go next.
// post_logout_redirect_uri is honoured only when it is registered for the
// client named by the id_token_hint (or client_id), exactly.
func (s *Server) endSession(ctx context.Context, req *oidc.EndSessionRequest) (*op.Redirect, error) {
	clientID := req.ClientID
	if req.IdTokenHint != "" {
		payload, _, err := s.verifyOwn(ctx, req.IdTokenHint) // expired hints are fine
		if err != nil {
			return nil, invalidRequest("id_token_hint is not an ID token issued here")
		}
		var c struct {
			Audience oidc.Audience `json:"aud"`
			Issuer   string        `json:"iss"`
		}
		if json.Unmarshal(payload, &c) != nil || c.Issuer != s.cfg.Issuer || len(c.Audience) == 0 {
			return nil, invalidRequest("id_token_hint is not an ID token issued here")
		}
		if clientID != "" && !slices.Contains(c.Audience, clientID) {
			return nil, invalidRequest("client_id does not match id_token_hint")
		}
		clientID = c.Audience[0]
	}
	next := ""
	if req.PostLogoutRedirectURI != "" {
		if clientID == "" {
			return nil, invalidRequest("post_logout_redirect_uri needs id_token_hint or client_id")
		}
		e, err := s.client(ctx, clientID)
		if err != nil || !slices.Contains(e.client.PostLogoutRedirectURIs, req.PostLogoutRedirectURI) {
			return nil, invalidRequest("post_logout_redirect_uri is not registered for this client")
		}
		next = withLogoutState(req.PostLogoutRedirectURI, req.State)
	}
	if s.cfg.LogoutURL != nil {
		return op.NewRedirect(s.cfg.LogoutURL(next)), nil
	}
	if next == "" {
		next = s.cfg.Issuer + "/"
	}
	return op.NewRedirect(next), nil
}

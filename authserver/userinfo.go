package authserver

import (
	"context"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// userinfo answers OpenID Connect userinfo for a user access token with the
// openid scope, releasing the claims its scopes allow. Bad tokens get
// invalid_token with 401, as RFC 6750 §3.1 says.
func (s *Server) userinfo(ctx context.Context, token string) (*op.Response, error) {
	c, err := s.verifyCached(ctx, token)
	if err != nil {
		return nil, errInvalidToken("the access token is invalid, expired or revoked")
	}
	if err := checkBinding(ctx, c); err != nil {
		return nil, err
	}
	if !c.isUser() || !slices.Contains(c.scopes(), scopeOpenID) {
		return nil, errInvalidToken("the access token was not issued for userinfo (openid scope)")
	}
	if !slices.Contains(c.Audience, s.cfg.Issuer) && len(c.Audience) == 1 {
		if _, err := s.API(ctx, c.Audience[0]); err == nil {
			return nil, errInvalidToken("the access token is for another resource (RFC 8707)")
		}
	}
	e, err := s.clientOrDocument(ctx, c.ClientID)
	if err != nil {
		return nil, errInvalidToken("the client no longer exists")
	}
	u, err := s.st.UserByID(ctx, c.Subject)
	if err == nil {
		e, err = s.forUser(ctx, e, u)
	}
	if err != nil || u.OrgID != e.org.ID {
		return nil, errInvalidToken("the user no longer exists")
	}
	if r := standing(s.now(), e.org, &e.client, &u); r != "" {
		return nil, errInvalidToken(r)
	}
	return tokenResponse(releasedClaims(u, e.org, c.scopes())), nil
}

package authserver

import (
	"context"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// clientCredentials is the client_credentials grant for service clients.
// It is the hot path: the client comes from the cache, the gate is asked,
// the token is signed, and the database is neither written nor (while
// nothing changed) read. No refresh token is issued (RFC 6749 §4.4.3).
//
// With resource (RFC 8707) the token is for that API: aud is its identifier
// and, when no scope is asked for, the client's scopes of that API are
// granted.
func (s *Server) clientCredentials(ctx context.Context, e *clientEntry, req *oidc.ClientCredentialsRequest, resources []string, jkt string) (*op.Response, error) {
	api, err := s.target(ctx, e, resources)
	if err != nil {
		return nil, err
	}
	if err := requireSenderConstrained(api, jkt); err != nil {
		return nil, err
	}
	scopes := dedupe(req.Scope)
	if len(scopes) == 0 {
		if scopes, err = s.scopesFor(ctx, api, e.apiScopes()); err != nil {
			return nil, err
		}
		if api != nil && len(scopes) == 0 {
			return nil, invalidScope("the client holds none of the scopes of resource " + quote(api.Identifier))
		}
	} else if bad := e.checkScopes(scopes); bad != "" {
		return nil, invalidScope("scope " + quote(bad) + " is not allowed for this client")
	} else if err := s.checkTargetScopes(ctx, api, scopes); err != nil {
		return nil, err
	}
	v, err := s.decide(ctx, GateRequest{Point: PointClientCredentials, Org: e.org, Plan: e.plan, Client: &e.client, Scopes: scopes})
	if err != nil {
		s.log.ErrorContext(ctx, "client_credentials gate failed", "err", err)
		return nil, serverError(err)
	}
	if v.Action != Permit {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("%s", sanitize(v.Reason, 200))
	}
	claims := s.newAccessClaims(e, e.client.ClientID, scopes, s.now())
	s.aimAt(claims, api)
	claims.bind(jkt)
	at, err := s.signAccess(ctx, claims)
	if err != nil {
		return nil, serverError(err)
	}
	return tokenResponse(&oidc.AccessTokenResponse{AccessToken: at, TokenType: tokenType(jkt),
		ExpiresIn: uint64(max(0, claims.Expiry-claims.IssuedAt)), Scope: scopes}), nil
}

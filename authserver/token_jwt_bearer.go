package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// grantJWTBearer is RFC 7523 §2.1.
const grantJWTBearer = string(oidc.GrantTypeBearer)

// jwtBearer is the RFC 7523 JWT bearer grant: a client of an organization
// presents an assertion signed by one of the organization's trusted
// issuers, and receives a Portico access token naming the assertion's
// (mapped) subject. The client must be registered for the grant and
// authenticate, either with its own credentials or, when it has none
// (token_endpoint_auth_method none), by being bound to the issuer, whose
// assertion then is the only proof. A bound client accepts assertions from
// its issuer only. Each assertion is single-use (its jti).
func (s *Server) jwtBearer(ctx context.Context, r *op.Request[oidc.JWTProfileGrantRequest]) (*op.Response, error) {
	e, err := s.authenticate(ctx, clientCredentialsOf(r.Header, r.Form))
	if err != nil {
		return nil, err
	}
	if !hasGrant(e, grantJWTBearer) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client may not use the jwt-bearer grant")
	}
	// op routes this grant here before any client check of ours, so the
	// DPoP binding is decided here, as opServer does for the other grants.
	jkt, err := s.tokenBinding(ctx, e, r.Form)
	if err != nil {
		return nil, err
	}
	var bound string
	if s.ist != nil {
		if bound, err = s.ist.ClientIssuerBinding(ctx, e.client.ClientID); err != nil {
			return nil, serverError(err)
		}
	}
	if e.client.TokenEndpointAuthMethod == authNone && bound == "" {
		s.countFailure(ctx, &op.ClientCredentials{ClientID: e.client.ClientID})
		return nil, invalidClient("client authentication failed", errors.New("a client without credentials must be bound to a trusted issuer"))
	}
	ext, err := s.verifyExternal(ctx, e.client.OrgID, r.Data.Assertion, true)
	var ref *refusal
	if errors.As(err, &ref) {
		s.logRefusal(ctx, PointJWTBearer, e, ref)
		return nil, invalidGrant(ref.reason)
	}
	if err != nil {
		return nil, serverError(err)
	}
	if bound != "" && ext.issuer.ID != bound {
		ref = refuse(ext.issuer.Issuer, "the client is bound to another trusted issuer")
		s.logRefusal(ctx, PointJWTBearer, e, ref)
		return nil, invalidGrant(ref.reason)
	}
	// An assertion bound to a DPoP key (a partner's bound access token, say)
	// is held to it as in token exchange: it never turns into a bearer
	// token here. Its jti is spent already: a thief's attempt burns it.
	if err := exchangeBinding("assertion", ext.jkt, jkt); err != nil {
		return nil, err
	}
	scopes := dedupe(r.Data.Scope)
	if len(scopes) == 0 {
		scopes = e.apiScopes()
	} else if bad := e.checkScopes(scopes); bad != "" {
		return nil, invalidScope("scope " + quote(bad) + " is not allowed for this client")
	}
	aud := []string{s.cfg.Issuer}
	if err := s.admitExternal(ctx, PointJWTBearer, e, ext, scopes, aud); err != nil {
		return nil, err
	}
	claims := s.externalClaims(e, ext, scopes, aud)
	claims.bind(jkt)
	at, err := s.signAccess(ctx, claims)
	if err != nil {
		return nil, serverError(err)
	}
	return tokenResponse(&oidc.AccessTokenResponse{AccessToken: at, TokenType: tokenType(jkt),
		ExpiresIn: uint64(max(0, claims.Expiry-claims.IssuedAt)), Scope: scopes}), nil
}

// clientCredentialsOf reads client authentication from a token request the
// way op does for the grants it authenticates itself: Basic, or the form's
// client_id with client_secret or client_assertion.
func clientCredentialsOf(h map[string][]string, form url.Values) *op.ClientCredentials {
	cc := &op.ClientCredentials{ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret"),
		ClientAssertion: form.Get("client_assertion"), ClientAssertionType: form.Get("client_assertion_type")}
	if id, secret, ok := basicAuth(h); ok {
		cc.ClientID, cc.ClientSecret = id, secret
	}
	return cc
}

// basicAuth reads HTTP Basic credentials, form-decoded (RFC 6749 §2.3.1).
func basicAuth(h map[string][]string) (id, secret string, ok bool) {
	id, secret, ok = (&http.Request{Header: h}).BasicAuth()
	if !ok {
		return "", "", false
	}
	var err1, err2 error
	id, err1 = url.QueryUnescape(id)
	secret, err2 = url.QueryUnescape(secret)
	return id, secret, err1 == nil && err2 == nil
}

func hasGrant(e *clientEntry, g string) bool {
	for _, x := range e.client.GrantTypes {
		if x == g {
			return true
		}
	}
	return false
}

// exchangeExternal is token exchange (RFC 8693) of a subject token from one
// of the requesting client's organization's trusted issuers: a JWT or an
// OpenID Connect ID token. The audiences are checked as for Portico's own
// tokens, and the gate decides for the client (machine to machine) and, as
// user access, for the client and every audience app.
func (s *Server) exchangeExternal(ctx context.Context, e *clientEntry, req *oidc.TokenExchangeRequest, jkt string) (*op.Response, error) {
	if req.ActorToken != "" || req.ActorTokenType != "" {
		return nil, invalidRequest("an actor_token cannot accompany a subject_token from a trusted issuer")
	}
	if req.RequestedTokenType != "" && !ourTokenType(req.RequestedTokenType) {
		return nil, invalidRequest("only access tokens can be requested")
	}
	ext, err := s.verifyExternal(ctx, e.client.OrgID, req.SubjectToken, false)
	var ref *refusal
	if errors.As(err, &ref) {
		s.logRefusal(ctx, PointTokenExchange, e, ref)
		return nil, invalidGrant(ref.reason)
	}
	if err != nil {
		return nil, serverError(err)
	}
	if err := exchangeBinding("subject_token", ext.jkt, jkt); err != nil {
		return nil, err
	}
	scopes := dedupe(req.Scopes)
	if len(scopes) == 0 {
		scopes = e.apiScopes()
	} else if bad := e.checkScopes(scopes); bad != "" {
		return nil, invalidScope("scope " + quote(bad) + " is not allowed for this client")
	}
	aud, err := s.exchangeAudience(ctx, e, append(req.Audience, req.Resource...))
	if err != nil {
		return nil, err
	}
	if err := s.admitExternal(ctx, PointTokenExchange, e, ext, scopes, aud); err != nil {
		return nil, err
	}
	claims := s.externalClaims(e, ext, scopes, aud)
	claims.bind(jkt)
	at, err := s.signAccess(ctx, claims)
	if err != nil {
		return nil, serverError(err)
	}
	return tokenResponse(&oidc.TokenExchangeResponse{AccessToken: at, IssuedTokenType: oidc.AccessTokenType,
		TokenType: tokenType(jkt), ExpiresIn: uint64(max(0, claims.Expiry-claims.IssuedAt)), Scopes: scopes}), nil
}

// isExternalSubject: an ID token is always a partner's (Portico's own are
// not exchangeable); a JWT is when another issuer signed it.
func (s *Server) isExternalSubject(req *oidc.TokenExchangeRequest) bool {
	switch req.SubjectTokenType {
	case oidc.IDTokenType:
		return true
	case oidc.JWTTokenType:
		iss := unverifiedIssuer(req.SubjectToken)
		return iss != "" && iss != s.cfg.Issuer
	}
	return false
}

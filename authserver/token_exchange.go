package authserver

import (
	"context"
	"errors"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// tokenExchange is RFC 8693: a partner's service trades a Portico access
// token (the subject) for one with narrower scope or another audience. With
// an actor token the result carries an act claim naming the actor
// (delegation). Both tokens must belong to the client's organization; the
// result never outlives the subject token.
func (s *Server) tokenExchange(ctx context.Context, e *clientEntry, req *oidc.TokenExchangeRequest, form url.Values) (*op.Response, error) {
	if !ourTokenType(req.SubjectTokenType) {
		return nil, invalidRequest("subject_token_type must be an access token")
	}
	if req.RequestedTokenType != "" && !ourTokenType(req.RequestedTokenType) {
		return nil, invalidRequest("only access tokens can be requested")
	}
	subject, err := s.verifyAccessToken(ctx, req.SubjectToken)
	if err != nil {
		return nil, invalidGrant("subject_token is invalid, expired or revoked")
	}
	if subject.OrgID != e.client.OrgID {
		return nil, invalidGrant("subject_token belongs to another organization")
	}
	var act *actor
	if req.ActorToken != "" {
		if !ourTokenType(req.ActorTokenType) {
			return nil, invalidRequest("actor_token_type must be an access token")
		}
		a, err := s.verifyAccessToken(ctx, req.ActorToken)
		if err != nil {
			return nil, invalidGrant("actor_token is invalid, expired or revoked")
		}
		if a.OrgID != e.client.OrgID {
			return nil, invalidGrant("actor_token belongs to another organization")
		}
		act = &actor{Subject: a.Subject, ClientID: a.ClientID, Act: a.Act}
	} else if req.ActorTokenType != "" {
		return nil, invalidRequest("actor_token_type without actor_token")
	}

	granted := subject.scopes()
	scopes := dedupe(req.Scopes)
	if len(scopes) == 0 {
		for _, sc := range granted {
			if e.allowsScope(sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	for _, sc := range scopes {
		if !slices.Contains(granted, sc) || !e.allowsScope(sc) {
			return nil, invalidScope("scope " + quote(sc) + " is not within the subject token's scopes and the client's")
		}
	}
	aud, err := s.exchangeAudience(ctx, e, append(req.Audience, req.Resource...))
	if err != nil {
		return nil, err
	}

	var user *store.User
	if subject.isUser() {
		u, err := s.st.UserByID(ctx, subject.Subject)
		if err != nil {
			return nil, invalidGrant("the subject no longer exists")
		}
		user = &u
	}
	v, err := s.decide(ctx, GateRequest{Point: PointTokenExchange, Org: e.org, Plan: e.plan, Client: &e.client,
		User: user, Scopes: scopes})
	if err != nil {
		s.log.ErrorContext(ctx, "token exchange gate failed", "err", err)
	}
	if v.Action != Permit {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("%s", sanitize(v.Reason, 200))
	}

	now := s.now()
	claims := s.newAccessClaims(e, subject.Subject, scopes, now)
	claims.Audience, claims.Act = aud, act
	claims.AuthTime, claims.AMR = subject.AuthTime, subject.AMR
	if user != nil {
		claims.Groups = user.Groups()
	}
	claims.Expiry = min(claims.Expiry, subject.Expiry)
	at, err := s.signAccess(ctx, claims)
	if err != nil {
		return nil, serverError(err)
	}
	return tokenResponse(&oidc.TokenExchangeResponse{AccessToken: at, IssuedTokenType: oidc.AccessTokenType,
		TokenType: oidc.BearerToken, ExpiresIn: uint64(max(0, claims.Expiry-now.Unix())), Scopes: scopes}), nil
}

// ourTokenType: the subject and actor are Portico access tokens, named
// either way RFC 8693 allows.
func ourTokenType(t oidc.TokenType) bool {
	return t == oidc.AccessTokenType || t == oidc.JWTTokenType
}

// exchangeAudience checks the requested audiences: this issuer (Portico's
// APIs) or clients of the same organization. Anything else is invalid_target.
func (s *Server) exchangeAudience(ctx context.Context, e *clientEntry, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return []string{s.cfg.Issuer}, nil
	}
	out := make([]string, 0, len(requested))
	for _, a := range dedupe(requested) {
		if a == s.cfg.Issuer {
			out = append(out, a)
			continue
		}
		t, err := s.client(ctx, a)
		if errors.Is(err, store.ErrNotFound) || (err == nil && t.client.OrgID != e.client.OrgID) {
			return nil, oidc.ErrInvalidTarget().WithDescription("audience %s is not known", quote(a))
		}
		if err != nil {
			return nil, serverError(err)
		}
		out = append(out, a)
	}
	return out, nil
}

package authserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// LegacyIntrospection serves introspection the way it was served before
// serveIntrospection: through op's router, which parsed the request and
// marshaled the oidc.IntrospectionResponse built below. It lives in the
// tests only, so TestIntrospectionAnswersAsBefore can compare answers.
func LegacyIntrospection(s *Server) http.Handler {
	h := op.RegisterServer(&legacyIntrospector{opServer{s: s}},
		op.Endpoints{Introspection: op.NewEndpoint(s.endpoint.introspect)})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What serve did before handing a token endpoint to op.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		if !s.tokenRequestAcceptable(w, r) {
			return
		}
		r = r.WithContext(WithClientAddr(r.Context(), clientAddr(r)))
		h.ServeHTTP(&challengeWriter{ResponseWriter: w, challenge: `Basic realm="` + s.cfg.Issuer + `"`}, r)
	})
}

type legacyIntrospector struct{ opServer }

// Introspect is the previous introspect, verbatim but for its name.
func (l *legacyIntrospector) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	s, req := l.s, r.Data
	caller, err := s.authenticate(ctx, req.ClientCredentials)
	if err != nil {
		return nil, err
	}
	if caller.client.TokenEndpointAuthMethod == authNone {
		return nil, invalidClient("public clients may not introspect", nil)
	}
	inactive := tokenResponse(&oidc.IntrospectionResponse{Active: false})
	if c, err := s.verifyCached(ctx, req.Token); err == nil {
		if c.OrgID != caller.client.OrgID || !s.tokenInGoodStanding(ctx, c.ClientID, c.isUser(), c.Subject) {
			return inactive, nil
		}
		resp := &oidc.IntrospectionResponse{Active: true, Scope: c.scopes(), ClientID: c.ClientID,
			TokenType: tokenType(c.jkt()), Expiration: oidc.FromTime(unix(c.Expiry)), IssuedAt: oidc.FromTime(unix(c.IssuedAt)),
			Subject: c.Subject, Audience: c.Audience, Issuer: c.Issuer, JWTID: c.JTI,
			AuthenticationMethodsReferences: c.AMR,
			Claims:                          map[string]any{"org": c.Org, "groups": c.Groups, "features": c.Features}}
		if c.Cnf != nil {
			resp.Claims["cnf"] = c.Cnf
		}
		if c.AuthTime != 0 {
			resp.AuthTime = oidc.FromTime(unix(c.AuthTime))
		}
		if c.ACR != "" {
			resp.Claims["acr"] = c.ACR
		}
		if c.ExtIss != "" {
			resp.Claims["ext_iss"] = c.ExtIss
		}
		if c.Act != nil {
			resp.Actor = &oidc.ActorClaims{Subject: c.Act.Subject, Claims: map[string]any{"client_id": c.Act.ClientID}}
		}
		return tokenResponse(resp), nil
	} else if !errors.Is(err, errNotOurs) {
		return nil, serverError(err)
	}
	tok, fam, err := s.st.RefreshToken(ctx, s.hash.sum(purposeRefresh, req.Token))
	if errors.Is(err, store.ErrNotFound) {
		return inactive, nil
	}
	if err != nil {
		return nil, serverError(err)
	}
	now := s.now()
	if fam.OrgID != caller.client.OrgID || !fam.RevokedAt.IsZero() || !tok.UsedAt.IsZero() ||
		!now.Before(fam.ExpiresAt) || !s.tokenInGoodStanding(ctx, fam.ClientID, fam.UserID != "", fam.UserID) {
		return inactive, nil
	}
	return tokenResponse(&oidc.IntrospectionResponse{Active: true, Scope: fam.Scopes, ClientID: fam.ClientID,
		TokenType: "refresh_token", Expiration: oidc.FromTime(fam.ExpiresAt), IssuedAt: oidc.FromTime(tok.CreatedAt),
		Subject: fam.UserID, Issuer: s.cfg.Issuer}), nil
}

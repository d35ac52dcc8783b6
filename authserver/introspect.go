package authserver

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// introspect is RFC 7662. The caller must authenticate as a confidential
// client, and learns about tokens of its own organization only: any other
// token, like an expired, revoked or unknown one, is {"active": false}. A
// token of an organization outside its partnership window, or of a disabled
// client, is inactive too; so is a person's token once that person no
// longer stands where userinfo would answer: removed, disabled, or in an
// organization that is suspended or outside its window.
func (s *Server) introspect(ctx context.Context, req *op.IntrospectionRequest) (*op.Response, error) {
	caller, err := s.authenticate(ctx, req.ClientCredentials)
	if err != nil {
		return nil, err
	}
	if caller.client.TokenEndpointAuthMethod == authNone {
		return nil, invalidClient("public clients may not introspect", nil)
	}
	inactive := tokenResponse(&oidc.IntrospectionResponse{Active: false})
	// token_type_hint is only a hint (RFC 7662 §2.1): try both kinds.
	if c, err := s.verifyCached(ctx, req.Token); err == nil {
		if c.OrgID != caller.client.OrgID || !s.tokenInGoodStanding(ctx, c.ClientID, c.isUser(), c.Subject) {
			return inactive, nil
		}
		resp := &oidc.IntrospectionResponse{Active: true, Scope: c.scopes(), ClientID: c.ClientID,
			TokenType: tokenType(c.jkt()), Expiration: oidc.FromTime(unix(c.Expiry)), IssuedAt: oidc.FromTime(unix(c.IssuedAt)),
			Subject: c.Subject, Audience: c.Audience, Issuer: c.Issuer, JWTID: c.JTI,
			AuthenticationMethodsReferences: c.AMR,
			Claims:                          map[string]any{"org": c.Org, "groups": c.Groups, "features": c.Features}}
		if c.Cnf != nil { // RFC 9449 §6.2
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

// tokenInGoodStanding: the client a token was issued to still exists, is
// enabled, and its organization is active; and, for a person's token, the
// person still exists, is active, and belongs to the organization the token
// is issued under (theirs, for an app shared with it), which must be active
// too. It is the check userinfo makes.
func (s *Server) tokenInGoodStanding(ctx context.Context, clientID string, isUser bool, userID string) bool {
	e, err := s.clientOrDocument(ctx, clientID)
	if err != nil {
		return false
	}
	if !isUser {
		return standing(s.now(), e.org, &e.client, nil) == ""
	}
	u, err := s.st.UserByID(ctx, userID)
	if err != nil {
		return false
	}
	if e, err = s.forUser(ctx, e, u); err != nil || u.OrgID != e.org.ID {
		return false
	}
	return standing(s.now(), e.org, &e.client, &u) == ""
}

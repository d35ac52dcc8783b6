package authserver

import (
	"context"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// userGrant is what a person granted a client: the basis of every token
// issued from a code or a refresh token.
type userGrant struct {
	userID   string
	scopes   []string
	authTime time.Time
	amr      []string
	api      *store.API // the resource (RFC 8707); nil for the issuer
}

// userAccessClaims builds an access token for a person: with groups, so
// APIs can decide on them.
func (s *Server) userAccessClaims(e *clientEntry, u store.User, g userGrant, now time.Time) *accessClaims {
	c := s.newAccessClaims(e, u.ID, g.scopes, now)
	c.Groups = u.Groups()
	c.AMR = g.amr
	s.aimAt(c, g.api)
	if len(g.amr) > 0 {
		c.ACR = ACRFor(g.amr)
	}
	if !g.authTime.IsZero() {
		c.AuthTime = g.authTime.Unix()
	}
	return c
}

// newRefreshFamily starts a refresh-token family for a grant and returns
// its first token.
func (s *Server) newRefreshFamily(ctx context.Context, e *clientEntry, familyID string, g userGrant, claims *accessClaims, now time.Time) (string, error) {
	rt := newToken()
	f := store.RefreshFamily{ID: familyID, ClientID: e.client.ClientID, OrgID: e.client.OrgID, UserID: g.userID,
		Scopes: g.scopes, AuthTime: g.authTime, AMR: g.amr, Resource: identifierOf(g.api), CreatedAt: now, ExpiresAt: now.Add(s.cfg.Lifetimes.RefreshToken)}
	if claims.Cnf != nil && e.client.TokenEndpointAuthMethod == authNone {
		// RFC 9449 §5: a public client's refresh tokens are bound to the
		// key; a confidential client's are bound by its authentication.
		f.DPoPJKT = claims.Cnf.JKT
	}
	first := store.RefreshToken{Hash: s.hash.sum(purposeRefresh, rt), CreatedAt: now, AccessJTI: claims.JTI,
		AccessExpiresAt: unix(claims.Expiry)}
	if err := s.st.CreateRefreshFamily(ctx, &f, first); err != nil {
		return "", err
	}
	return rt, nil
}

// issueUserTokens signs the access token, an ID token when openid was
// granted, and answers with refresh (already stored) if there is one.
//
// An ID token comes with an openid grant when idToken is true: always from
// a code, and on refresh only when the client asks for it again (see
// refreshWantsIDToken).
func (s *Server) issueUserTokens(ctx context.Context, e *clientEntry, u store.User, g userGrant, claims *accessClaims, familyID, nonce, refresh string, idToken bool) (*op.Response, error) {
	now := s.now()
	if familyID != "" && refresh == "" {
		var err error
		if refresh, err = s.newRefreshFamily(ctx, e, familyID, g, claims, now); err != nil {
			return nil, serverError(err)
		}
	}
	at, err := s.signAccess(ctx, claims)
	if err != nil {
		return nil, serverError(err)
	}
	resp := &oidc.AccessTokenResponse{AccessToken: at, TokenType: tokenType(claims.jkt()), RefreshToken: refresh,
		ExpiresIn: uint64(max(0, claims.Expiry-claims.IssuedAt)), Scope: claims.scopes()}
	if idToken && slices.Contains(claims.scopes(), scopeOpenID) {
		idc := s.idClaims(e, u, claims.scopes(), nonce, g.authTime, g.amr, at, now)
		if resp.IDToken, err = s.signIDToken(ctx, idTokenAlg(e), idc); err != nil {
			return nil, serverError(err)
		}
	}
	return tokenResponse(resp), nil
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

package authserver

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// refresh is the refresh_token grant with rotation: every use returns a new
// refresh token and retires the old one; presenting a retired one again
// means it was stolen or replayed, and the whole family is revoked (RFC 9700
// §4.14.2). An organization outside its partnership window, a disabled user
// or a gate Deny also ends the family.
//
// The grant keeps the resource it was made for: a resource parameter naming
// another is invalid_target (RFC 8707 §2.2).
func (s *Server) refresh(ctx context.Context, e *clientEntry, req *oidc.RefreshTokenRequest, resources []string, jkt string) (*op.Response, error) {
	hash := s.hash.sum(purposeRefresh, req.RefreshToken)
	tok, fam, err := s.st.RefreshToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("the refresh token is invalid")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if fam.ClientID != e.client.ClientID {
		return nil, invalidGrant("the refresh token was issued to another client")
	}
	now := s.now()
	revoke := func(reason string) {
		if err := s.st.RevokeRefreshFamily(ctx, fam.ID, reason, now); err != nil {
			s.log.ErrorContext(ctx, "revoke refresh family", "err", err, "family", fam.ID)
		}
	}
	switch {
	case !fam.RevokedAt.IsZero():
		return nil, invalidGrant("the refresh token was revoked")
	case !tok.UsedAt.IsZero():
		revoke("refresh token reused")
		s.log.WarnContext(ctx, "refresh token reused; family revoked", "client_id", fam.ClientID, "family", fam.ID)
		return nil, invalidGrant("the refresh token was already used; the grant is revoked")
	case !now.Before(fam.ExpiresAt):
		return nil, invalidGrant("the refresh token has expired")
	case fam.DPoPJKT != "" && jkt != fam.DPoPJKT: // RFC 9449 §5: a public client's refresh token is bound
		return nil, invalidGrant("the refresh token is bound to another DPoP key")
	}
	user, err := s.st.UserByID(ctx, fam.UserID)
	if err != nil {
		revoke("the user no longer exists")
		return nil, invalidGrant("the user no longer exists")
	}
	// For a shared app the user's organization is the one whose standing counts.
	if e, err = s.forUser(ctx, e, user); err != nil {
		return nil, err
	}
	if r := e.org.InactiveReason(now); r != "" {
		revoke(r)
		return nil, invalidGrant(r)
	}
	scopes := fam.Scopes
	if len(req.Scopes) > 0 { // RFC 6749 §6: narrower, never wider
		for _, sc := range req.Scopes {
			if !slices.Contains(fam.Scopes, sc) {
				return nil, invalidScope("scope " + quote(sc) + " was not granted")
			}
		}
		scopes = dedupe(req.Scopes)
	}
	api, err := s.grantedTarget(ctx, e, fam.Resource, resources, "the original grant")
	if err != nil {
		return nil, err
	}
	if err := requireSenderConstrained(api, jkt); err != nil {
		return nil, err
	}
	if bad := e.checkScopes(scopes); bad != "" {
		return nil, invalidScope("scope " + quote(bad) + " is no longer allowed for this client")
	}
	if err := s.checkTargetScopes(ctx, api, scopes); err != nil {
		return nil, err
	}
	v, err := s.decide(ctx, GateRequest{Point: PointRefresh, Org: e.org, Plan: e.plan, Client: &e.client, User: &user,
		Scopes: scopes, Context: RequestContext{AuthTime: fam.AuthTime, AMR: fam.AMR}})
	if err != nil {
		s.log.ErrorContext(ctx, "refresh gate failed", "err", err)
		// Not a Deny: the family stays as it is and the client may retry.
		return nil, serverError(err)
	}
	switch v.Action {
	case Deny:
		revoke("denied at refresh: " + v.Reason)
		return nil, invalidGrant(v.Reason)
	case Challenge: // no one to step up here: sign in again, keep the family
		return nil, invalidGrant("sign in again: " + v.Reason)
	}
	g := userGrant{userID: user.ID, scopes: scopes, authTime: fam.AuthTime, amr: fam.AMR, api: api}
	claims := s.userAccessClaims(e, user, g, now)
	claims.bind(jkt)
	next := newToken()
	err = s.st.RotateRefreshToken(ctx, hash, store.RefreshToken{Hash: s.hash.sum(purposeRefresh, next),
		FamilyID: fam.ID, CreatedAt: now, AccessJTI: claims.JTI, AccessExpiresAt: unix(claims.Expiry)})
	if errors.Is(err, store.ErrConflict) { // used concurrently: one of the two is a replay
		revoke("refresh token reused")
		return nil, invalidGrant("the refresh token was already used; the grant is revoked")
	}
	if err != nil {
		return nil, serverError(err)
	}
	return s.issueUserTokens(ctx, e, user, g, claims, fam.ID, "", next, refreshWantsIDToken(req))
}

// refreshWantsIDToken is the rule for ID tokens on refresh. OpenID Connect
// Core §12.2 makes one optional there, and signing it is the most expensive
// part of a refresh (RS256 by default). So one is issued only when the
// refresh request names openid in its scope parameter: a client that wants a
// fresh ID token asks for it (scope=openid …); one that sends no scope (what
// golang.org/x/oauth2 does) gets the access and refresh tokens alone. The
// grant must have been an OpenID Connect one in either case, since a refresh
// can only narrow the granted scopes.
func refreshWantsIDToken(req *oidc.RefreshTokenRequest) bool {
	return slices.Contains(req.Scopes, scopeOpenID)
}

package authserver

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// codeExchange is the authorization_code grant: the code is single use and
// lives 60 seconds; presenting it a second time revokes every token issued
// from it (RFC 6749 §4.1.2, RFC 9700 §4.5).
//
// resource (RFC 8707 §2.2) may repeat the one sent to /authorize; any other
// is invalid_target.
func (s *Server) codeExchange(ctx context.Context, e *clientEntry, req *oidc.AccessTokenRequest, resources []string, jkt string) (*op.Response, error) {
	ar, err := s.st.AuthRequestByCode(ctx, s.hash.sum(purposeCode, req.Code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("the code is invalid or has expired")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if ar.ClientID != e.client.ClientID {
		return nil, invalidGrant("the code was issued to another client")
	}
	now := s.now()
	if !ar.CodeUsedAt.IsZero() {
		s.revokeIssuedFromCode(ctx, ar)
		return nil, invalidGrant("the code was already used; the tokens issued from it are revoked")
	}
	if !now.Before(ar.CodeExpiresAt) {
		return nil, invalidGrant("the code is invalid or has expired")
	}
	if ar.DPoPJKT != "" && jkt != ar.DPoPJKT { // RFC 9449 §10
		return nil, invalidGrant("the code is bound to another DPoP key (dpop_jkt)")
	}
	if req.RedirectURI != ar.RedirectURI {
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	}
	if ar.CodeChallenge != "" {
		if req.CodeVerifier == "" {
			return nil, invalidRequest("code_verifier is required")
		}
		if !isCodeVerifier(req.CodeVerifier) || !oidc.VerifyCodeChallenge(
			&oidc.CodeChallenge{Challenge: ar.CodeChallenge, Method: oidc.CodeChallengeMethodS256}, req.CodeVerifier) {
			return nil, invalidGrant("code_verifier does not match the code_challenge")
		}
	} else if req.CodeVerifier != "" {
		return nil, invalidRequest("code_verifier sent but no code_challenge was")
	}
	user, err := s.st.UserByID(ctx, ar.UserID)
	if err != nil {
		return nil, invalidGrant("the user no longer exists")
	}
	if e, err = s.forUser(ctx, e, user); err != nil {
		return nil, err
	}
	if r := standing(now, e.org, &e.client, &user); r != "" {
		return nil, invalidGrant(r)
	}
	api, err := s.grantedTarget(ctx, e, ar.Resource, resources, "the authorization request")
	if err != nil {
		return nil, err
	}
	if err := requireSenderConstrained(api, jkt); err != nil {
		return nil, err
	}
	if bad := e.checkScopes(ar.Scopes); bad != "" { // the client may have changed since /authorize
		return nil, invalidScope("scope " + quote(bad) + " is no longer allowed for this client")
	}
	if err := s.checkTargetScopes(ctx, api, ar.Scopes); err != nil {
		return nil, err
	}
	grant := userGrant{userID: user.ID, scopes: ar.Scopes, authTime: ar.AuthTime, amr: ar.AMR, api: api}
	claims := s.userAccessClaims(e, user, grant, now)
	claims.bind(jkt)
	familyID := ""
	if wantsRefresh(e, ar.Scopes) {
		familyID = store.NewID()
	}
	// Mark the code used before signing anything: two concurrent exchanges
	// cannot both succeed, and the loser is treated as a replay.
	if err := s.st.UseCode(ctx, ar.ID, now, claims.JTI, unix(claims.Expiry), familyID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			if ar2, err2 := s.st.AuthRequest(ctx, ar.ID); err2 == nil {
				s.revokeIssuedFromCode(ctx, ar2)
			}
			return nil, invalidGrant("the code was already used; the tokens issued from it are revoked")
		}
		return nil, serverError(err)
	}
	return s.issueUserTokens(ctx, e, user, grant, claims, familyID, ar.Nonce, "", true)
}

// revokeIssuedFromCode revokes the access token and the refresh-token family
// issued from a code that is being replayed.
func (s *Server) revokeIssuedFromCode(ctx context.Context, ar store.AuthRequest) {
	now := s.now()
	if ar.AccessJTI != "" && ar.AccessExpiresAt.After(now) {
		if err := s.revokeJTI(ctx, ar.AccessJTI, ar.AccessExpiresAt); err != nil {
			s.log.ErrorContext(ctx, "revoke on code replay", "err", err)
		}
	}
	if ar.FamilyID != "" {
		if err := s.st.RevokeRefreshFamily(ctx, ar.FamilyID, "authorization code replayed", now); err != nil {
			s.log.ErrorContext(ctx, "revoke on code replay", "err", err)
		}
	}
	s.log.WarnContext(ctx, "authorization code replayed", "client_id", ar.ClientID, "auth_request", ar.ID)
}

// wantsRefresh: a refresh token is issued only when offline_access was
// granted and the client may use the refresh grant.
func wantsRefresh(e *clientEntry, scopes []string) bool {
	return slices.Contains(scopes, scopeOfflineAccess) && slices.Contains(e.client.GrantTypes, grantRefresh)
}

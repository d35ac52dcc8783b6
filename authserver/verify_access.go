package authserver

import (
	"context"
	"errors"
)

// ErrTokenNotValid is any access token a resource inside Portico must
// refuse: not issued here, expired, revoked, or no longer in good standing.
var ErrTokenNotValid = errors.New("authserver: access token not valid")

// AccessToken is what a resource inside Portico (the admin API) learns
// from one of Portico's own access tokens.
type AccessToken struct {
	ClientID string
	OrgID    string
	Subject  string
	JTI      string
	Scopes   []string
	// User: the token was issued to a person, not to the client itself.
	User bool
	// SenderConstrained: the token is bound to a DPoP key; a resource that
	// does not check DPoP proofs must refuse it.
	SenderConstrained bool
}

// VerifyAccessToken checks token as introspection would for its own
// organization: signature, issuer, expiry, revocation, and that its client
// (and person) still stand where userinfo would answer.
func (s *Server) VerifyAccessToken(ctx context.Context, token string) (AccessToken, error) {
	c, err := s.verifyAccessToken(ctx, token)
	if errors.Is(err, errNotOurs) {
		return AccessToken{}, ErrTokenNotValid
	}
	if err != nil {
		return AccessToken{}, err
	}
	if !s.tokenInGoodStanding(ctx, c.ClientID, c.isUser(), c.Subject) {
		return AccessToken{}, ErrTokenNotValid
	}
	return AccessToken{ClientID: c.ClientID, OrgID: c.OrgID, Subject: c.Subject, JTI: c.JTI, Scopes: c.scopes(),
		User: c.isUser(), SenderConstrained: c.jkt() != ""}, nil
}

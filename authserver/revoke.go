package authserver

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// revoke is RFC 7009. A client revokes its own tokens: a refresh token
// revokes its whole family (and the access tokens issued with it); an access
// token's jti is remembered until it expires, so it introspects inactive.
// Unknown tokens and other clients' tokens are answered 200 and ignored, as
// §2.2 requires.
func (s *Server) revoke(ctx context.Context, e *clientEntry, req *oidc.RevocationRequest) (*op.Response, error) {
	ok := tokenResponse(struct{}{})
	if c, err := s.verifyAccessToken(ctx, req.Token); err == nil {
		if c.ClientID == e.client.ClientID {
			if err := s.revokeJTI(ctx, c.JTI, unix(c.Expiry)); err != nil {
				return nil, serverError(err)
			}
		}
		return ok, nil
	} else if !errors.Is(err, errNotOurs) {
		return nil, serverError(err)
	}
	_, fam, err := s.st.RefreshToken(ctx, s.hash.sum(purposeRefresh, req.Token))
	if errors.Is(err, store.ErrNotFound) {
		return ok, nil
	}
	if err != nil {
		return nil, serverError(err)
	}
	if fam.ClientID == e.client.ClientID {
		if err := s.st.RevokeRefreshFamily(ctx, fam.ID, "revoked by the client", s.now()); err != nil {
			return nil, serverError(err)
		}
	}
	return ok, nil
}

package authserver

import (
	"context"
	"sync"
)

// verifiedTokens remembers access tokens whose signature, type and issuer
// the authorizer has checked, by their exact text: a gateway sees the same
// token on every call of a client, and an ECDSA verification is most of
// the cost of a decision. Expiry and revocation are checked on every call
// all the same. Bounded: when full it starts over.
type verifiedTokens struct {
	mu sync.RWMutex
	m  map[string]*accessClaims
}

const maxVerifiedTokens = 8192

func (v *verifiedTokens) get(token string) *accessClaims {
	v.mu.RLock()
	c := v.m[token]
	v.mu.RUnlock()
	return c
}

func (v *verifiedTokens) put(token string, c *accessClaims) {
	v.mu.Lock()
	if v.m == nil || len(v.m) >= maxVerifiedTokens {
		v.m = make(map[string]*accessClaims, 256)
	}
	v.m[token] = c
	v.mu.Unlock()
}

// verify is verifyAccessToken with the signature check cached. The claims
// returned are shared: callers only read them.
func (a *Authorizer) verify(ctx context.Context, token string) (*accessClaims, error) {
	c := a.verified.get(token)
	if c == nil || c.Expiry <= a.s.now().Unix() {
		var err error
		if c, err = a.s.verifySignedAccess(ctx, token); err != nil {
			return nil, err
		}
		a.verified.put(token, c)
	}
	return c, a.s.checkRevoked(ctx, c)
}

package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
)

// verifiedTokens remembers access tokens whose signature, type and issuer
// were checked, by their exact text: a gateway (the authorizer) or a
// resource server (introspection, userinfo) sees the same token on every
// call of a client, and an ECDSA verification is most of the cost of such
// a call. Expiry and revocation are checked on every call
// all the same, and so is that the signing key is still published: a key
// removed from the key set takes its tokens with it. Bounded: when full it
// starts over.
type verifiedTokens struct {
	mu sync.RWMutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	claims *accessClaims
	kid    string
}

const maxVerifiedTokens = 8192

func (v *verifiedTokens) get(token string) (verifiedToken, bool) {
	v.mu.RLock()
	e, ok := v.m[token]
	v.mu.RUnlock()
	return e, ok
}

func (v *verifiedTokens) put(token string, e verifiedToken) {
	v.mu.Lock()
	if v.m == nil || len(v.m) >= maxVerifiedTokens {
		v.m = make(map[string]verifiedToken, 256)
	}
	v.m[token] = e
	v.mu.Unlock()
}

// verify is the server's verifyCached.
func (a *Authorizer) verify(ctx context.Context, token string) (*accessClaims, error) {
	return a.s.verifyCached(ctx, token)
}

// verifyCached is verifyAccessToken with the signature check cached. The
// claims returned are shared: callers only read them.
func (s *Server) verifyCached(ctx context.Context, token string) (*accessClaims, error) {
	e, ok := s.verified.get(token)
	if ok && e.claims.Expiry > s.now().Unix() {
		set, err := s.keys.current(ctx, s.fresh)
		if err != nil {
			return nil, err
		}
		if _, published := set.public[e.kid]; !published {
			ok = false
		}
	} else {
		ok = false
	}
	if !ok {
		c, err := s.verifySignedAccess(ctx, token)
		if err != nil {
			return nil, err
		}
		e = verifiedToken{claims: c, kid: headerKID(token)}
		s.verified.put(token, e)
	}
	return e.claims, s.checkRevoked(ctx, e.claims)
}

// headerKID reads the kid of a compact JWS whose signature was verified.
func headerKID(token string) string {
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		KID string `json:"kid"`
	}
	_ = json.Unmarshal(b, &hdr)
	return hdr.KID
}

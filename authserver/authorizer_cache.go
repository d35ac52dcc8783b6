package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
)

// verifiedTokens remembers access tokens whose signature, type and issuer
// were checked, by their exact text: a gateway (the authorizer) or a
// resource server (introspection, userinfo) sees the same token on every
// call of a client, and an ECDSA verification is most of the cost of such
// a call. Expiry and revocation are checked on every call
// all the same, and so is that the signing key is still published: a key
// removed from the key set takes its tokens with it.
//
// Bounded by CLOCK (second-chance) eviction: the entries sit in a ring;
// a hit sets the entry's reference bit, and a put into a full ring moves
// a hand over it that takes the first expired or unreferenced entry,
// clearing the bits it passes. Tokens in use stay, one-off tokens go
// first, and a put costs O(1) amortized (at most one turn of the ring),
// where starting over when full emptied the cache under a working set
// just above its size and sent every caller back to ECDSA.
type verifiedTokens struct {
	mu    sync.RWMutex
	index map[string]int // token -> slot in ring
	ring  []*verifiedToken
	hand  int
	// max is the capacity; 0 means maxVerifiedTokens (tests set less).
	max int
}

// verifiedToken is one cache entry. claims are shared by every caller and
// only read.
type verifiedToken struct {
	token  string
	claims *accessClaims
	kid    string
	// used is CLOCK's reference bit.
	used atomic.Bool
	// answer is introspection's marshaled active answer for this token,
	// made on first use (introspect.go): it depends on the claims alone.
	answer atomic.Pointer[[]byte]
}

const maxVerifiedTokens = 8192

func (v *verifiedTokens) get(token string) (*verifiedToken, bool) {
	v.mu.RLock()
	i, ok := v.index[token]
	var e *verifiedToken
	if ok {
		e = v.ring[i]
	}
	v.mu.RUnlock()
	if ok && !e.used.Load() { // a load first: no cache-line write on every hit
		e.used.Store(true)
	}
	return e, ok
}

// put adds e (replacing an entry for the same token); now (Unix seconds)
// lets a full ring drop expired entries before unreferenced ones.
func (v *verifiedTokens) put(e *verifiedToken, now int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.index == nil {
		v.index = make(map[string]int, 256)
	}
	if i, ok := v.index[e.token]; ok {
		v.ring[i] = e
		return
	}
	capacity := v.max
	if capacity <= 0 {
		capacity = maxVerifiedTokens
	}
	if len(v.ring) < capacity {
		v.index[e.token] = len(v.ring)
		v.ring = append(v.ring, e)
		return
	}
	// Every entry passed loses its bit, so within one turn the hand finds
	// one to take.
	for {
		old := v.ring[v.hand]
		if old.claims.Expiry <= now || !old.used.Load() {
			break
		}
		old.used.Store(false)
		v.hand = (v.hand + 1) % len(v.ring)
	}
	delete(v.index, v.ring[v.hand].token)
	v.ring[v.hand] = e
	v.index[e.token] = v.hand
	v.hand = (v.hand + 1) % len(v.ring)
}

// len is the number of cached tokens.
func (v *verifiedTokens) len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.ring)
}

// verify is the server's verifyCached.
func (a *Authorizer) verify(ctx context.Context, token string) (*accessClaims, error) {
	return a.s.verifyCached(ctx, token)
}

// verifyCached is verifyAccessToken with the signature check cached. The
// claims returned are shared: callers only read them.
func (s *Server) verifyCached(ctx context.Context, token string) (*accessClaims, error) {
	e, err := s.verifiedEntry(ctx, token)
	if err != nil {
		return nil, err
	}
	return e.claims, nil
}

// verifiedEntry is verifyCached returning the cache entry itself, for
// introspection's cached answer.
func (s *Server) verifiedEntry(ctx context.Context, token string) (*verifiedToken, error) {
	now := s.now().Unix()
	e, ok := s.verified.get(token)
	if ok && e.claims.Expiry > now {
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
		e = &verifiedToken{token: token, claims: c, kid: headerKID(token)}
		s.verified.put(e, now)
	}
	if err := s.checkRevoked(ctx, e.claims); err != nil {
		return nil, err
	}
	return e, nil
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

package authserver

import (
	"context"
	"sync"
	"time"
)

// revokedJTIs caches the answer to "is this access token's jti revoked?",
// which introspection and userinfo ask on every call. An answer is kept
// with the data version it was read at (read before the query, so a
// revocation committed after the query changes the version):
//   - "revoked" holds until the token expires: a revocation is never undone;
//   - "not revoked" holds only while the data version is unchanged, which
//     the freshness check reads on every request (CacheRevalidate 0, the
//     default: an atomic load), so a revocation made elsewhere (another
//     replica, the CLI) is seen as soon as the store learns of it, well
//     within 20 ms;
//   - a revocation made by this process is entered at once, so it is seen by
//     the very next request here.
type revokedJTIs struct {
	mu sync.Mutex
	m  map[string]revokedEntry
}

type revokedEntry struct {
	revoked bool
	ver     int64
	exp     int64 // Unix seconds: the token's expiry, after which it is moot
}

// revokedCacheMax bounds the cache; past it, expired entries go, and if that
// leaves it over three quarters full the cache starts over (answers are
// reread from the store) rather than scan a full map on the next puts.
const revokedCacheMax = 200_000

func (r *revokedJTIs) get(jti string) (revokedEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[jti]
	return e, ok
}

func (r *revokedJTIs) put(jti string, e revokedEntry, now int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]revokedEntry{}
	}
	if len(r.m) >= revokedCacheMax {
		for k, v := range r.m {
			if v.exp <= now {
				delete(r.m, k)
			}
		}
		if len(r.m) >= revokedCacheMax*3/4 {
			clear(r.m)
		}
	}
	r.m[jti] = e
}

// jtiRevoked answers from the cache when it can (see revokedJTIs).
func (s *Server) jtiRevoked(ctx context.Context, jti string, exp int64) (bool, error) {
	ver, err := s.fresh.current(ctx)
	if err != nil {
		return false, err
	}
	if e, ok := s.revoked.get(jti); ok && (e.revoked || e.ver == ver) {
		return e.revoked, nil
	}
	revoked, err := s.st.JTIRevoked(ctx, jti)
	if err != nil {
		return false, err
	}
	s.revoked.put(jti, revokedEntry{revoked: revoked, ver: ver, exp: exp}, s.now().Unix())
	return revoked, nil
}

// revokeJTI revokes an access token's jti in the store and, once that has
// committed, in this process's cache.
func (s *Server) revokeJTI(ctx context.Context, jti string, expires time.Time) error {
	if err := s.st.RevokeJTI(ctx, jti, expires); err != nil {
		return err
	}
	s.revoked.put(jti, revokedEntry{revoked: true, exp: expires.Unix()}, s.now().Unix())
	return nil
}

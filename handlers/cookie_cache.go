package handlers

import (
	"sync"
	"time"
)

// cookieTokens remembers, for a short while, the session token a session
// cookie's exact value decoded to, and the token's hash: checking the
// cookie's HMAC and decrypting and gob-decoding it was a tenth of the CPU of
// a signed-in request, and a browser sends the same cookie on every request.
// Only the decoding is skipped: whether the token's session is still alive
// is the principal cache's question (principal_cache.go), answered against
// the store's data version, so a session that ended ends at once. An entry
// lives a minute, far less than the cookie's own age limit. Bounded: when
// full it starts over.
type cookieTokens struct {
	mu sync.RWMutex
	m  map[string]cookieToken
}

type cookieToken struct {
	token string
	hash  string // hashToken(token)
	until time.Time
}

const (
	maxCookieTokens = 8192
	cookieTokenTTL  = time.Minute
)

func (c *cookieTokens) lookup(cookie string, now time.Time) (cookieToken, bool) {
	c.mu.RLock()
	e, ok := c.m[cookie]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return cookieToken{}, false
	}
	return e, true
}

func (c *cookieTokens) put(cookie, token string, now time.Time) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCookieTokens {
		c.m = make(map[string]cookieToken, 256)
	}
	c.m[cookie] = cookieToken{token: token, hash: hashToken(token), until: now.Add(cookieTokenTTL)}
	c.mu.Unlock()
}

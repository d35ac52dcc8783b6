package handlers

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"portico/store"
)

// principal is what a signed-in request needs to know about its session,
// as of one data version of the store: the session, its user and
// organization, whether the user must choose a new password, and — filled
// on first use — how the session was authenticated and the user's policy
// facts (plan, remembered locations). Repeat requests with the same session
// token read none of it from the database while the version is unchanged.
//
// Every change that must end or alter a session moves the version at once
// in this process and within milliseconds on every other replica and for
// the CLI (store.DataVersion: ending, rotating or stepping up a session,
// the user's or organization's rows, a required password change, a
// remembered location). What does not move it is kept here: the session's
// activity (seen/expires, touched at most once a minute) and the clock
// checks (idle and absolute expiry, the organization's partnership window),
// which are made again on every hit.
//
// An entry is shared by concurrent requests: everything in it is read-only
// after it is published, except the atomics.
type principal struct {
	ver     int64
	session store.Session
	user    store.User
	org     store.Organization
	// pwChange: the user must choose a new password (passwordChangeGate);
	// only asked for users with a password.
	pwChange bool
	// seen and expires are the session's activity, in Unix milliseconds,
	// as this process last wrote or read it.
	seen, expires atomic.Int64
	auth          atomic.Pointer[store.SessionAuth]
	facts         atomic.Pointer[principalFacts]
}

// principalFacts are loadPolicyFacts' reads: the plan's slug (for planID)
// and the user's remembered locations.
type principalFacts struct {
	planID    string
	plan      string
	locations []store.Location
}

// principalCache maps session-token hashes to principals. Bounded: when
// full, or when an entry of a newer data version arrives, it starts over —
// entries of an older version are useless anyway.
type principalCache struct {
	mu  sync.RWMutex
	ver int64
	m   map[string]*principal
}

// maxPrincipals bounds the cache: sessions active within a version's life.
const maxPrincipals = 8192

func (c *principalCache) get(hash string, ver int64) *principal {
	c.mu.RLock()
	p := c.m[hash]
	c.mu.RUnlock()
	if p == nil || p.ver != ver {
		return nil
	}
	return p
}

func (c *principalCache) put(hash string, p *principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case p.ver < c.ver:
		return // loaded before a change another request has already seen
	case c.m == nil || p.ver > c.ver || len(c.m) >= maxPrincipals:
		c.m = make(map[string]*principal, 64)
		c.ver = p.ver
	}
	c.m[hash] = p
}

// principalKey carries the request's principal in its context, for the
// helpers that get only a context (loadSessionAuth).
type principalKey struct{}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(principalKey{}).(*principal)
	return p
}

// current returns p if it is still valid at the store's data version now:
// a change committed since (a step-up recorded during this very request, a
// location remembered) means the lazily filled parts must be read again.
func (p *principal) current(ctx context.Context, st *store.Store) bool {
	if p == nil {
		return false
	}
	v, err := st.DataVersion(ctx)
	return err == nil && v == p.ver
}

// viewer is a fresh Viewer for one request from p: handlers may change
// their copy (orgScope, Rotate) without touching the entry.
func (p *principal) viewer() *Viewer {
	v := &Viewer{User: p.user, Org: p.org, Session: p.session, principal: p}
	v.Session.LastSeenAt, v.Session.ExpiresAt = time.UnixMilli(p.seen.Load()).UTC(), time.UnixMilli(p.expires.Load()).UTC()
	return v
}

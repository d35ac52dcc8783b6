package handlers

import (
	"net/netip"
	"sync"
	"time"
)

// locationTouchEvery is how often, at most, a permitted launch writes that a
// user used a remembered network. The touch only orders the remembered
// networks for eviction (the least recently used of store.MaxLocations goes
// when step-up adds one), so a use is recorded to within this; writing it on
// every launch put each launch in the queue for SQLite's single writer.
const locationTouchEvery = 5 * time.Minute

// maxTouched bounds the memory of recent touches. Forgetting one costs a
// write, never a wrong answer.
const maxTouched = 1 << 16

type touchKey struct {
	userID  string
	network netip.Prefix
}

// touchedLocations remembers, in this process, when each (user, network)
// was last touched.
type touchedLocations struct {
	mu sync.Mutex
	m  map[touchKey]time.Time
}

// due reports whether (user, network) was not touched in the locationTouchEvery
// before now. A clock that went back counts as due.
func (t *touchedLocations) due(userID string, network netip.Prefix, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.m[touchKey{userID, network}]
	return !ok || now.Before(at) || now.Sub(at) >= locationTouchEvery
}

// done notes that (user, network) was touched at now.
func (t *touchedLocations) done(userID string, network netip.Prefix, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[touchKey]time.Time{}
	}
	if len(t.m) >= maxTouched {
		for k, at := range t.m {
			if now.Sub(at) >= locationTouchEvery || now.Before(at) {
				delete(t.m, k)
			}
		}
		if len(t.m) >= maxTouched*3/4 { // else the next few would sweep again
			clear(t.m)
		}
	}
	t.m[touchKey{userID, network}] = now
}

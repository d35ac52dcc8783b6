package handlers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"portico/store"
)

// launchRevalidate is how old, at most, the data version the launch's app
// cache trusts may be: a client deleted, disabled or unshared (here, by the
// CLI or on another replica) stops launching within it.
const launchRevalidate = 20 * time.Millisecond

// freshVersion answers "what is the store's data version now?" asking the
// store at most once per interval, so a launch usually reads an atomic
// instead of queueing on the one connection SQLite's PRAGMA data_version
// goes through. The interval is measured on the monotonic clock, not the
// injected one: it paces the question, it decides nothing. A negative
// interval asks every time.
type freshVersion struct {
	interval time.Duration // zero: launchRevalidate; negative: ask every time
	mu       sync.Mutex
	version  atomic.Int64
	checked  atomic.Int64 // monoNow when version was asked; 0: never
}

// monoStart anchors monoNow, a monotonic clock for pacing.
var monoStart = time.Now()

func monoNow() int64 { return int64(time.Since(monoStart)) + 1 }

func (f *freshVersion) current(ctx context.Context, st *store.Store) (int64, error) {
	fresh := func() bool {
		iv := f.interval
		if iv == 0 {
			iv = launchRevalidate
		}
		at := f.checked.Load()
		return at != 0 && iv > 0 && monoNow()-at < int64(iv)
	}
	if fresh() {
		return f.version.Load(), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fresh() {
		return f.version.Load(), nil
	}
	// The time is taken before asking, so an answer is never trusted longer
	// than interval after the moment it may describe.
	at := monoNow()
	v, err := st.DataVersion(ctx)
	if err != nil {
		return 0, err
	}
	f.version.Store(v)
	f.checked.Store(at)
	return v, nil
}

// launchApps caches the launchable app behind /launch/<client_id> per
// (organization, plan, client_id), each entry as of the data version it was
// loaded at: reading the client (and, for an app of the viewer's own
// organization, its secrets) was a fifth of a launch's CPU. Only apps found
// launchable are kept, so made-up client_ids cannot grow it; a not-found
// always asks the store, which makes a newly shared or enabled app
// launchable at once.
type launchApps struct {
	fresh freshVersion
	mu    sync.RWMutex
	m     map[launchAppKey]launchAppEntry
}

type launchAppKey struct{ org, plan, clientID string }

type launchAppEntry struct {
	app     store.Client
	version int64
}

// maxLaunchApps bounds the cache; when full it starts over.
const maxLaunchApps = 16384

// get returns the app for key, loading it with load (which returns
// store.ErrNotFound for anything not launchable) when the cache has no
// entry at the current data version.
func (a *launchApps) get(ctx context.Context, st *store.Store, key launchAppKey, load func() (store.Client, error)) (store.Client, error) {
	dv, verr := a.fresh.current(ctx, st)
	if verr == nil {
		a.mu.RLock()
		e, ok := a.m[key]
		a.mu.RUnlock()
		if ok && e.version == dv {
			return e.app, nil
		}
	}
	app, err := load()
	switch {
	case err == nil && verr == nil:
		a.mu.Lock()
		if a.m == nil || len(a.m) >= maxLaunchApps {
			a.m = map[launchAppKey]launchAppEntry{}
		}
		a.m[key] = launchAppEntry{app: app, version: dv}
		a.mu.Unlock()
	case errors.Is(err, store.ErrNotFound):
		a.mu.Lock()
		delete(a.m, key)
		a.mu.Unlock()
	}
	return app, err
}

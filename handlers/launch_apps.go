package handlers

import (
	"context"
	"errors"
	"sync"

	"portico/store"
)

// launchApps caches the launchable app behind /launch/<client_id> per
// (organization, plan, client_id), each entry as of the data version it was
// loaded at: reading the client (and, for an app of the viewer's own
// organization, its secrets) was a fifth of a launch's CPU. Only apps found
// launchable are kept, so made-up client_ids cannot grow it; a not-found
// always asks the store, which makes a newly shared or enabled app
// launchable at once. The version is read before loading, so a change
// committed meanwhile is seen on the next launch; a change by the CLI or
// another replica is seen as soon as the data version shows it.
type launchApps struct {
	mu sync.RWMutex
	m  map[launchAppKey]launchAppEntry
	// version is the data version the entries of m were loaded at: an
	// entry of another version is never served, so the map starts over.
	version int64
}

type launchAppKey struct{ org, plan, clientID string }

type launchAppEntry struct {
	app     store.Client
	version int64
}

// maxLaunchApps bounds the cache; when full, or when the data version
// moves, it starts over.
const maxLaunchApps = 16384

// get returns the app for key, loading it with load (which returns
// store.ErrNotFound for anything not launchable) when the cache has no
// entry at the current data version.
func (a *launchApps) get(ctx context.Context, st *store.Store, key launchAppKey, load func() (store.Client, error)) (store.Client, error) {
	dv, verr := st.DataVersion(ctx)
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
		if a.m == nil || len(a.m) >= maxLaunchApps || a.version != dv {
			a.m, a.version = map[launchAppKey]launchAppEntry{}, dv
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

package handlers

import (
	"sync"

	"portico/store"
)

// launchableCache holds the launchable apps per organization and plan, as
// of one data version of the store; a newer version empties it. Callers
// only read the slices it returns.
type launchableCache struct {
	mu      sync.RWMutex
	version int64
	m       map[launchableKey][]store.Client
}

// maxLaunchableOrgs bounds the cache: when full it starts over.
const maxLaunchableOrgs = 4096

// launchableKey is an organization and its plan.
type launchableKey struct{ org, plan string }

func (c *launchableCache) get(key launchableKey, version int64) ([]store.Client, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.m == nil || c.version != version {
		return nil, false
	}
	apps, ok := c.m[key]
	return apps, ok
}

func (c *launchableCache) put(key launchableKey, version int64, apps []store.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.version != version || len(c.m) >= maxLaunchableOrgs {
		c.m = map[launchableKey][]store.Client{}
		c.version = version
	}
	c.m[key] = apps
}

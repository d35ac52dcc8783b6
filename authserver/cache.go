package authserver

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"portico/store"
)

// freshness answers "what is the database's data version now?" cheaply. It
// asks the store (an atomic load there) at most once per interval, or on
// every call when the interval is not positive. The interval is measured on
// the monotonic clock, not the injected one: it is a rate limit, not logic.
type freshness struct {
	st interface {
		DataVersion(context.Context) (int64, error)
	}
	interval time.Duration
	mu       sync.Mutex
	version  atomic.Int64
	checked  atomic.Int64 // monotonic nanoseconds since start
	start    time.Time
}

func newFreshness(st interface {
	DataVersion(context.Context) (int64, error)
}, interval time.Duration) *freshness {
	f := &freshness{st: st, interval: interval, start: time.Now()}
	f.checked.Store(-1 << 62)
	return f
}

// current returns the data version, at most interval old.
func (f *freshness) current(ctx context.Context) (int64, error) {
	if f.interval <= 0 {
		return f.st.DataVersion(ctx)
	}
	now := int64(time.Since(f.start))
	if now-f.checked.Load() < int64(f.interval) {
		return f.version.Load(), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if now-f.checked.Load() < int64(f.interval) {
		return f.version.Load(), nil
	}
	v, err := f.st.DataVersion(ctx)
	if err != nil {
		return 0, err
	}
	f.version.Store(v)
	f.checked.Store(now)
	return v, nil
}

// clientEntry is a client with what issuing for it needs: its organization
// and plan. ver is the data version it was loaded at.
type clientEntry struct {
	client store.Client
	org    store.Organization
	plan   *store.Plan
	// planScopes is the union of the plan's feature scopes; nil without a plan.
	planScopes map[string]bool
	// ownerPlanID is the plan of the client's own organization: what decides
	// which APIs it may get tokens for, even when a shared app acts for a
	// user of another organization.
	ownerPlanID string
	ver         int64
	// metadata is set for a client identified by a Client ID Metadata
	// Document (cimd.go); such an entry is never in the cache above.
	metadata *ClientMetadata
}

// features lists the names of the plan's features, for token claims.
func (e *clientEntry) features() []string {
	if e.plan == nil {
		return nil
	}
	out := make([]string, 0, len(e.plan.Features))
	for _, f := range e.plan.Features {
		out = append(out, f.Name)
	}
	return out
}

// clientCache keeps clients by client_id so that the client-credentials hot
// path reads no database at all while nothing has changed. An entry loaded
// at an older data version is reloaded on its next use.
type clientCache struct {
	st interface {
		orgStore
		LookupClient(ctx context.Context, clientID string) (store.Client, error)
		APIs(ctx context.Context) ([]store.API, error)
	}
	mu sync.RWMutex
	m  map[string]*clientEntry
}

// get returns the client, its organization and plan as of version ver.
// Unknown clients are store.ErrNotFound and are not cached, so made-up
// client_ids cannot grow the map.
func (c *clientCache) get(ctx context.Context, clientID string, ver int64) (*clientEntry, error) {
	c.mu.RLock()
	e := c.m[clientID]
	c.mu.RUnlock()
	if e != nil && e.ver == ver {
		return e, nil
	}
	cl, err := c.st.LookupClient(ctx, clientID)
	if err != nil {
		if e != nil {
			c.mu.Lock()
			delete(c.m, clientID)
			c.mu.Unlock()
		}
		return nil, err
	}
	org, plan, err := orgAndPlan(ctx, c.st, cl.OrgID)
	if err != nil {
		return nil, fmt.Errorf("authserver: organization of client %s: %w", clientID, err)
	}
	var apis []store.API
	if plan != nil {
		if apis, err = c.st.APIs(ctx); err != nil {
			return nil, err
		}
	}
	n := &clientEntry{client: cl, org: org, plan: plan, planScopes: boundScopes(plan, org.ID, apis),
		ownerPlanID: org.PlanID, ver: ver}
	c.mu.Lock()
	c.m[clientID] = n
	c.mu.Unlock()
	return n, nil
}

// client returns the current cached client.
func (s *Server) client(ctx context.Context, clientID string) (*clientEntry, error) {
	ver, err := s.fresh.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.clients.get(ctx, clientID, ver)
}

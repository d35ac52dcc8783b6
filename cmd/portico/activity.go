package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"portico/authserver"
	"portico/metrics"
	"portico/store"
)

// activity is what the web layer and the authorization server report to:
// it passes everything on to the Prometheus metrics (nil when they are
// off) and counts successful sign-ins and issued tokens per day for the
// platform home's chart, written to the database every half minute so
// the token endpoint never waits on it.
type activity struct {
	m   *metrics.Metrics
	st  *store.Store
	now func() time.Time
	log *slog.Logger

	mu     sync.Mutex
	counts map[time.Time]map[string]int
}

func (a *activity) Request(route, method string, code int, d time.Duration) {
	a.m.Request(route, method, code, d)
}

func (a *activity) SignIn(method, result string) {
	a.m.SignIn(method, result)
	if result == "success" {
		a.count(store.ActivitySignIns)
	}
}

func (a *activity) Lockout(factor string) { a.m.Lockout(factor) }

// The authorization server counts client-authentication lockouts only if
// what it is given as Metrics can (it finds out by type assertion).
var _ authserver.LockoutMetrics = (*activity)(nil)

func (a *activity) TokenIssued(grant, clientType string) {
	a.m.TokenIssued(grant, clientType)
	a.count(store.ActivityTokens)
}

func (a *activity) count(kind string) {
	day := store.Day(a.now())
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.counts == nil {
		a.counts = map[time.Time]map[string]int{}
	}
	if a.counts[day] == nil {
		a.counts[day] = map[string]int{}
	}
	a.counts[day][kind]++
}

// flush writes what was counted; on failure the counts are kept for the
// next flush.
func (a *activity) flush(ctx context.Context) {
	a.mu.Lock()
	counts := a.counts
	a.counts = nil
	a.mu.Unlock()
	for day, c := range counts {
		if err := a.st.AddActivity(ctx, day, c); err != nil {
			a.log.Warn("activity counts not written", "err", err)
			a.mu.Lock()
			if a.counts == nil {
				a.counts = map[time.Time]map[string]int{}
			}
			if a.counts[day] == nil {
				a.counts[day] = map[string]int{}
			}
			for k, n := range c {
				a.counts[day][k] += n
			}
			a.mu.Unlock()
		}
	}
}

// start flushes every interval until stop, which flushes a last time.
func (a *activity) start(interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				fctx, c := context.WithTimeout(context.Background(), 5*time.Second)
				a.flush(fctx)
				c()
				return
			case <-t.C:
				// Short: on SQLite the writer connection is shared with
				// requests; what is not written now is kept for the next try.
				fctx, c := context.WithTimeout(ctx, 2*time.Second)
				a.flush(fctx)
				c()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"portico/store"
)

// housekeepEvery is how often the portal purges expired rows. Nothing
// depends on the purge for correctness (every read checks expiry); it only
// keeps the tables from growing, so minutes are fine.
const housekeepEvery = 5 * time.Minute

// oauthSweeper is the authorization server's purge of expired authorization
// requests, refresh families and jtis.
type oauthSweeper interface {
	Sweep(ctx context.Context) (int64, error)
}

// sessionPurger is the store's purge of expired portal sessions and of
// sign-ins abandoned half-way (pending logins past their expiry).
type sessionPurger interface {
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
	DeleteExpiredPendingLogins(ctx context.Context, now time.Time) error
}

// logPurger deletes the decision log and audit events past their
// retention, a bounded batch at a time, and keeps SQLite's WAL bounded.
type logPurger interface {
	DeleteDecisionsBefore(ctx context.Context, t time.Time, batch int) (int64, error)
	DeleteAuditBefore(ctx context.Context, t time.Time, batch int) (int64, error)
	CheckpointWAL(ctx context.Context) (store.WALStats, error)
}

// Retention bounds: how long decisions and audit events are kept.
const (
	defaultDecisionRetention = 30 * 24 * time.Hour
	defaultAuditRetention    = 365 * 24 * time.Hour
	// purgeBatch rows go per transaction, so the writer is never held for
	// long; purgeBatchesPerRun bounds one run (a backlog after a long stop
	// is worked off over several runs).
	purgeBatch         = 2000
	purgeBatchesPerRun = 100
)

// housekeeper purges expired rows on a ticker.
type housekeeper struct {
	OAuth    oauthSweeper
	Sessions sessionPurger
	Logs     logPurger // nil: keep every decision and audit event
	// DecisionRetention and AuditRetention are how long each is kept; 0
	// keeps them forever.
	DecisionRetention time.Duration
	AuditRetention    time.Duration
	Now               func() time.Time
	Log               *slog.Logger
	Every             time.Duration
}

// start runs one purge right away (a portal restarted after a long stop has
// the most to purge) and then one every h.Every, until the returned stop is
// called; stop waits for a purge in progress to finish, so it is safe to
// close the store after it.
func (h housekeeper) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(h.Every)
		defer t.Stop()
		for {
			h.runOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

// runOnce purges once; failures are logged and retried at the next tick.
func (h housekeeper) runOnce(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if n, err := h.OAuth.Sweep(ctx); err != nil && ctx.Err() == nil {
		h.Log.Warn("housekeeping: purging expired OAuth rows", "err", err)
	} else if n > 0 {
		h.Log.Debug("housekeeping: purged expired OAuth rows", "rows", n)
	}
	if err := h.Sessions.DeleteExpiredSessions(ctx, h.Now()); err != nil && ctx.Err() == nil {
		h.Log.Warn("housekeeping: purging expired sessions", "err", err)
	}
	if err := h.Sessions.DeleteExpiredPendingLogins(ctx, h.Now()); err != nil && ctx.Err() == nil {
		h.Log.Warn("housekeeping: purging abandoned sign-ins", "err", err)
	}
	if cp, ok := h.Sessions.(challengePurger); ok {
		if err := cp.DeleteExpiredWebAuthnChallenges(ctx, h.Now()); err != nil && ctx.Err() == nil {
			h.Log.Warn("housekeeping: purging expired passkey challenges", "err", err)
		}
	}
	if tp, ok := h.Sessions.(throttlePurger); ok {
		// A day of quiet is also when a key's lock doubling is forgotten.
		now := h.Now()
		if err := tp.DeleteStaleThrottles(ctx, now, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			h.Log.Warn("housekeeping: purging stale sign-in throttles", "err", err)
		}
	}
	if ip, ok := h.Sessions.(idempotencyPurger); ok {
		if _, err := ip.DeleteExpiredIdempotencyKeys(ctx, h.Now()); err != nil && ctx.Err() == nil {
			h.Log.Warn("housekeeping: purging expired idempotency keys", "err", err)
		}
	}
	if h.Logs == nil {
		return
	}
	h.purge(ctx, "decisions", h.DecisionRetention, h.Logs.DeleteDecisionsBefore)
	h.purge(ctx, "audit events", h.AuditRetention, h.Logs.DeleteAuditBefore)
	if st, err := h.Logs.CheckpointWAL(ctx); err != nil && ctx.Err() == nil {
		h.Log.Warn("housekeeping: WAL checkpoint", "err", err)
	} else if st.Busy {
		h.Log.Debug("housekeeping: WAL checkpoint could not finish (busy)", "frames", st.Frames, "checkpointed", st.Checkpointed)
	}
}

// purge deletes rows older than keep in batches until none are left or the
// run's bound is reached.
func (h housekeeper) purge(ctx context.Context, what string, keep time.Duration,
	del func(context.Context, time.Time, int) (int64, error)) {
	if keep <= 0 {
		return
	}
	before := h.Now().Add(-keep)
	var total int64
	for range purgeBatchesPerRun {
		n, err := del(ctx, before, purgeBatch)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				h.Log.Warn("housekeeping: purging old "+what, "err", err)
			}
			break
		}
		if n < purgeBatch || ctx.Err() != nil {
			break
		}
	}
	if total > 0 {
		h.Log.Debug("housekeeping: purged old "+what, "rows", total)
	}
}

// challengePurger is the store's purge of WebAuthn ceremonies nobody
// finished: an optional ability of Sessions.
type challengePurger interface {
	DeleteExpiredWebAuthnChallenges(ctx context.Context, now time.Time) error
}

// throttlePurger is the store's purge of sign-in throttle keys neither
// locked nor touched for a day: an optional ability of Sessions.
type throttlePurger interface {
	DeleteStaleThrottles(ctx context.Context, now, before time.Time) error
}

// idempotencyPurger is the store's purge of the admin API's expired
// idempotency keys: an optional ability of Sessions.
type idempotencyPurger interface {
	DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int64, error)
}

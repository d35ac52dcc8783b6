package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
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

// housekeeper purges expired rows on a ticker.
type housekeeper struct {
	OAuth    oauthSweeper
	Sessions sessionPurger
	Now      func() time.Time
	Log      *slog.Logger
	Every    time.Duration
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

package authserver

import (
	"context"
	"errors"
	"sync"
	"time"

	"portico/store"
)

// jtiBatcher is the DPoP replay cache (RFC 9449 §11.1). The database
// decides: every proof's key goes into oauth_dpop_jtis with a conditional
// INSERT whose returned rows say which keys are new, so a proof replayed
// to another replica on the same database is refused there. Two things
// keep that cheap:
//
//   - Group commit without a hand-off: the request that finds no batch
//     running runs one itself, in its own goroutine, taking every key
//     queued so far (one multi-row statement). Requests that arrive
//     meanwhile queue; when the running batch is done, the first of them
//     leads the next one with all that queued. Alone, a request pays one
//     INSERT and no goroutine switch, which on a loaded machine costs more
//     than the INSERT (each wake-up waits for the OS scheduler).
//   - A first-level cache of the keys this replica has seen: a proof
//     replayed to the same replica is refused without the database.
//
// The memory holds keys only until their proof could no longer be accepted.
type jtiBatcher struct {
	st interface {
		UseDPoPJTIs(ctx context.Context, jtis []store.DPoPJTI) ([]bool, error)
	}
	now func() time.Time

	mu      sync.Mutex
	pending []*jtiWait
	running bool
	seen    map[string]time.Time // key -> when its proof expires
	purged  time.Time
}

type jtiWait struct {
	jti store.DPoPJTI
	// done receives the outcome, or errLead when this request is to run
	// the next batch itself.
	done chan error
}

// errLead is not an error: it hands the next batch to a waiting request.
var errLead = errors.New("lead the next batch")

// maxSeenJTIs bounds the first-level cache; past it, the oldest half of
// the time window is dropped, or everything if that is not enough (the
// database still refuses those replays).
const maxSeenJTIs = 1 << 17

// use records jti; a jti seen before is store.ErrAlreadyExists.
func (b *jtiBatcher) use(ctx context.Context, jti store.DPoPJTI) error {
	w := &jtiWait{jti: jti, done: make(chan error, 1)}
	b.mu.Lock()
	if exp, ok := b.seen[jti.Key]; ok && exp.After(b.now()) {
		b.mu.Unlock()
		return store.ErrAlreadyExists
	}
	b.pending = append(b.pending, w)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if !lead {
		select {
		case err := <-w.done:
			if err != errLead {
				return err
			}
		case <-ctx.Done():
			// This request stops waiting, but if the next batch is handed
			// to it, someone must still run it for the others.
			go func() {
				if <-w.done == errLead {
					b.runBatch()
					<-w.done
				}
			}()
			return ctx.Err()
		}
	}
	b.runBatch()
	return <-w.done
}

// runBatch records everything queued in one statement, answers each
// request, and hands the next batch to the first request queued meanwhile.
func (b *jtiBatcher) runBatch() {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	jtis := make([]store.DPoPJTI, len(batch))
	for i, w := range batch {
		jtis[i] = w.jti
	}
	// Not the leader's context: its cancellation must not fail the others.
	fresh, err := b.st.UseDPoPJTIs(context.Background(), jtis)

	b.mu.Lock()
	if err == nil {
		b.remember(jtis)
	}
	var next *jtiWait
	if len(b.pending) > 0 {
		next = b.pending[0]
	} else {
		b.running = false
	}
	b.mu.Unlock()
	for i, w := range batch {
		switch {
		case err != nil:
			w.done <- err
		case !fresh[i]:
			w.done <- store.ErrAlreadyExists
		default:
			w.done <- nil
		}
	}
	if next != nil {
		next.done <- errLead
	}
}

// remember adds keys to the first-level cache; b.mu is held.
func (b *jtiBatcher) remember(jtis []store.DPoPJTI) {
	now := b.now()
	if b.seen == nil {
		b.seen = make(map[string]time.Time)
	}
	if now.Sub(b.purged) > dpopWindow || len(b.seen) >= maxSeenJTIs {
		cut := now
		if len(b.seen) >= maxSeenJTIs {
			cut = now.Add((dpopWindow + dpopSkew) / 2)
		}
		for k, exp := range b.seen {
			if !exp.After(cut) {
				delete(b.seen, k)
			}
		}
		if len(b.seen) >= maxSeenJTIs*3/4 {
			// A burst within half a window: start over rather than scan a
			// full map on every batch.
			b.seen = make(map[string]time.Time)
		}
		b.purged = now
	}
	for _, j := range jtis {
		b.seen[j.Key] = j.Expires
	}
}

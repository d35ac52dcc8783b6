package authserver

import (
	"context"
	"sync"

	"portico/store"
)

// jtiBatcher records DPoP proof jtis with group commit: requests that
// arrive while a transaction is running wait for the next one, which takes
// them all. Every proof still gets its own conditional INSERT whose
// affected-row count decides (so replays are caught across replicas); only
// the commits are shared. With one DPoP request at a time it is one
// transaction per request, as before. The goroutine runs only while there
// is work.
type jtiBatcher struct {
	st interface {
		UseDPoPJTIs(ctx context.Context, jtis []store.DPoPJTI) ([]bool, error)
	}
	mu      sync.Mutex
	pending []jtiWait
	running bool
}

type jtiWait struct {
	jti  store.DPoPJTI
	done chan error
}

// use records jti; a jti seen before is store.ErrAlreadyExists.
func (b *jtiBatcher) use(ctx context.Context, jti store.DPoPJTI) error {
	w := jtiWait{jti: jti, done: make(chan error, 1)}
	b.mu.Lock()
	b.pending = append(b.pending, w)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *jtiBatcher) run() {
	for {
		b.mu.Lock()
		batch := b.pending
		b.pending = nil
		if len(batch) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		jtis := make([]store.DPoPJTI, len(batch))
		for i, w := range batch {
			jtis[i] = w.jti
		}
		// Not the first request's context: its cancellation must not fail
		// the others' inserts.
		fresh, err := b.st.UseDPoPJTIs(context.Background(), jtis)
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
	}
}

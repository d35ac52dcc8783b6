package authserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portico/store"
)

// slowJTIs is a replay store whose batches take a while, so requests queue
// behind a running batch; it remembers every key, as the table does.
type slowJTIs struct {
	mu      sync.Mutex
	seen    map[string]bool
	batches atomic.Int32
}

func (s *slowJTIs) UseDPoPJTIs(_ context.Context, jtis []store.DPoPJTI) ([]bool, error) {
	s.batches.Add(1)
	time.Sleep(2 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]bool, len(jtis))
	for i, j := range jtis {
		out[i] = !s.seen[j.Key]
		s.seen[j.Key] = true
	}
	return out, nil
}

// TestJTIBatcherGroupsAndSurvivesCancellation: requests that arrive while
// a batch runs share the next one; requests whose context ends while they
// wait do not strand the others (the batch handed to one of them still
// runs); every key is fresh exactly once, also straight from the
// first-level cache.
func TestJTIBatcherGroupsAndSurvivesCancellation(t *testing.T) {
	st := &slowJTIs{seen: map[string]bool{}}
	now := time.Now()
	b := &jtiBatcher{st: st, now: func() time.Time { return now }}
	const n = 200
	var wg sync.WaitGroup
	var fresh, cancelled atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			if i%5 == 0 {
				c, cancel := context.WithCancel(ctx)
				cancel()
				ctx = c
			}
			// Every key twice: one of the two uses is a replay.
			err := b.use(ctx, store.DPoPJTI{Key: fmt.Sprint("k", i/2), Expires: now.Add(time.Minute)})
			switch {
			case err == nil:
				fresh.Add(1)
			case errors.Is(err, context.Canceled):
				cancelled.Add(1)
			case !errors.Is(err, store.ErrAlreadyExists):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if fresh.Load() > n/2 || fresh.Load()+cancelled.Load() < n/2 {
		t.Fatalf("%d fresh, %d cancelled of %d uses of %d keys", fresh.Load(), cancelled.Load(), n, n/2)
	}
	if st.batches.Load() >= n {
		t.Fatalf("%d batches for %d requests: nothing was grouped", st.batches.Load(), n)
	}
	// The batcher still works, and a replay of a recorded key is refused
	// from memory, without a batch.
	if err := b.use(context.Background(), store.DPoPJTI{Key: "new", Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	before := st.batches.Load()
	if err := b.use(context.Background(), store.DPoPJTI{Key: "new", Expires: now.Add(time.Minute)}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("replay: %v", err)
	}
	if st.batches.Load() != before {
		t.Fatal("a replay of a key this replica recorded went to the database")
	}
}

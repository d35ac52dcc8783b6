package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestRevealIsTakenOnceBySessionThatMadeIt: another session cannot take a
// held value, the owner takes it once (of parallel takes exactly one wins),
// and an expired one is gone.
func TestRevealIsTakenOnceBySessionThatMadeIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		now := time.Now()
		id, err := s.PutReveal(ctx, "sess-a", []byte("sealed secret"), now, now.Add(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeReveal(ctx, id, "sess-b", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another session took it: %v", err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.TakeReveal(ctx, id, "sess-a", now)
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
					if string(got) != "sealed secret" {
						t.Errorf("got %q", got)
					}
				} else if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
					t.Errorf("take: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d takes got the value, want 1", wins)
		}
		old, err := s.PutReveal(ctx, "sess-a", []byte("x"), now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TakeReveal(ctx, old, "sess-a", now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an expired value was taken: %v", err)
		}
	})
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestPushedRequestsAreSingleUseAndBound: the DELETE decides; another
// client's or an expired handle is not found and not consumed; purge
// removes what expired.
func TestPushedRequestsAreSingleUseAndBound(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	now := time.Now()
	if err := s.CreatePushedRequest(ctx, "h1", "cid", `{"a":["b"]}`, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UsePushedRequest(ctx, "h1", "other", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other client: %v", err)
	}
	if _, err := s.UsePushedRequest(ctx, "h1", "cid", now.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
	if p, err := s.UsePushedRequest(ctx, "h1", "cid", now); err != nil || p != `{"a":["b"]}` {
		t.Fatalf("first use: %q %v", p, err)
	}
	if _, err := s.UsePushedRequest(ctx, "h1", "cid", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
	if err := s.CreatePushedRequest(ctx, "h2", "cid", `{}`, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.UseDPoPJTI(ctx, "j1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeExpiredOAuth(ctx, now.Add(2*time.Minute)); err != nil || n != 2 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if err := s.UseDPoPJTI(ctx, "j1", now.Add(time.Minute)); err != nil {
		t.Fatalf("after purge: %v", err)
	}
}

// TestDPoPJTIsFirstUseOnly: a jti is fresh once, also within one batch.
func TestDPoPJTIsFirstUseOnly(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	exp := time.Now().Add(time.Minute)
	if err := s.UseDPoPJTI(ctx, "a", exp); err != nil {
		t.Fatal(err)
	}
	if err := s.UseDPoPJTI(ctx, "a", exp); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("replay: %v", err)
	}
	fresh, err := s.UseDPoPJTIs(ctx, []store.DPoPJTI{{Key: "a", Expires: exp}, {Key: "b", Expires: exp}, {Key: "b", Expires: exp}})
	if err != nil || !slices.Equal(fresh, []bool{false, true, false}) {
		t.Fatalf("batch: %v %v", fresh, err)
	}
}

// TestDPoPJTIsAcrossReplicas: two stores on one database (two replicas)
// record proofs in batches larger than one statement; a key is fresh on
// exactly one of them, on both engines.
func TestDPoPJTIsAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		dsn := e.DSN(t)
		a, b := storetest.OpenDSN(t, dsn), storetest.OpenDSN(t, dsn)
		exp := time.Now().Add(time.Minute)
		batch := func(prefix string, n int) []store.DPoPJTI {
			out := make([]store.DPoPJTI, n)
			for i := range out {
				out[i] = store.DPoPJTI{Key: fmt.Sprintf("%s-%d", prefix, i), Expires: exp}
			}
			return out
		}
		first := batch("k", 70) // three statements: 32, 32, 6
		fresh, err := a.UseDPoPJTIs(ctx, first)
		if err != nil || slices.Contains(fresh, false) {
			t.Fatalf("first use on replica a: %v %v", fresh, err)
		}
		mixed := append(batch("k", 40)[35:], batch("new", 3)...) // 5 replays, 3 new
		fresh, err = b.UseDPoPJTIs(ctx, mixed)
		if err != nil || !slices.Equal(fresh, []bool{false, false, false, false, false, true, true, true}) {
			t.Fatalf("replayed on replica b: %v %v", fresh, err)
		}
		if err := a.UseDPoPJTI(ctx, "new-1", exp); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("replica b's key on replica a: %v", err)
		}
	})
}

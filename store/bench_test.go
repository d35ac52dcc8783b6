package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// The store's own benchmarks: a point read and a single-row write, each on
// SQLite as it was before the writer/reader split ("legacy": one default
// pool, writers queueing in SQLite's busy handler, nothing prepared), on
// SQLite as it is ("sqlite"), and on PostgreSQL when PORTICO_BENCH_POSTGRES
// names a database (disposable: the benchmark adds rows to it). Compare with
//
//	go test -run '^$' -bench . -cpu 1,8 ./store/

func benchStores(b *testing.B, fn func(b *testing.B, s *Store)) {
	modes := []string{"legacy", "sqlite"}
	if benchPostgresURL() != "" {
		modes = append(modes, "postgres")
	}
	for _, mode := range modes {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			dsn := filepath.Join(b.TempDir(), "bench.db")
			if mode == "postgres" {
				dsn = benchPostgresURL()
			}
			legacySQLitePool = mode == "legacy"
			s, err := Open(ctx, dsn)
			legacySQLitePool = false
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fn(b, s)
		})
	}
}

func BenchmarkPointRead(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		o := Organization{Slug: "bench-" + NewID(), Name: "Bench"}
		if err := s.CreateOrganization(ctx, &o); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Organization(ctx, o.ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkSingleWrite(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		var n atomic.Int64
		prefix := NewID()
		exp := time.Now().Add(time.Hour)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				jti := fmt.Sprintf("%s-%d", prefix, n.Add(1))
				if err := s.RevokeJTI(ctx, jti, exp); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func benchPostgresURL() string { return benchPG }

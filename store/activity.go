package store

import (
	"context"
	"fmt"
	"time"
)

// Activity kinds counted per day.
const (
	ActivitySignIns = "signins"
	ActivityTokens  = "tokens"
)

// Day is the UTC day of t.
func Day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// AddActivity adds counts (by kind) to day's totals, all or none: a caller
// that keeps the counts for a retry after an error must not add a kind twice.
func (s *Store) AddActivity(ctx context.Context, day time.Time, counts map[string]int) error {
	return s.InTx(ctx, func(tx *Store) error {
		for kind, n := range counts {
			if n == 0 {
				continue
			}
			if _, err := tx.q.ExecContext(ctx, `INSERT INTO activity_daily (day, kind, n) VALUES (?, ?, ?)
			ON CONFLICT (day, kind) DO UPDATE SET n = activity_daily.n + excluded.n`, ms(Day(day)), kind, n); err != nil {
				return fmt.Errorf("store: add activity: %w", err)
			}
		}
		return nil
	})
}

// DayCount is one day's count.
type DayCount struct {
	Day time.Time
	N   int
}

// Activity returns kind's count for each day from from's day to until's
// (inclusive), zero where nothing was counted.
func (s *Store) Activity(ctx context.Context, kind string, from, until time.Time) ([]DayCount, error) {
	from, until = Day(from), Day(until)
	rows, err := s.q.QueryContext(ctx, `SELECT day, n FROM activity_daily WHERE kind = ? AND day >= ? AND day <= ?`,
		kind, ms(from), ms(until))
	if err != nil {
		return nil, fmt.Errorf("store: activity: %w", err)
	}
	defer rows.Close()
	got := map[int64]int{}
	for rows.Next() {
		var d int64
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			return nil, err
		}
		got[d] = n
	}
	var out []DayCount
	for d := from; !d.After(until); d = d.Add(24 * time.Hour) {
		out = append(out, DayCount{Day: d, N: got[ms(d)]})
	}
	return out, rows.Err()
}

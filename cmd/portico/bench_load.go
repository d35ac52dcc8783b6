package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// load is one bounded run of concurrent requests against a URL.
type load struct {
	Client   *http.Client
	Clients  int           // concurrent workers, each with its own keep-alive connection
	Duration time.Duration // stop starting new requests after this long
	Requests int           // stop after this many requests in all; 0 means only Duration bounds the run
	Now      func() time.Time
	// NewRequest builds one request; it is called for every request, as a
	// body can be read only once.
	NewRequest func(ctx context.Context) (*http.Request, error)
	// Want, if set, must appear in every answer's body (the DPoP phase
	// checks that its tokens came out DPoP-bound).
	Want string
	// Do, when set, replaces one request of NewRequest: worker is the
	// worker's number (0…Clients-1), for paths that keep state per worker
	// (a session, a refresh token) or take several requests for one result.
	Do func(ctx context.Context, worker int) error
}

// loadResult is what a run measured. Latencies are of successful requests.
type loadResult struct {
	Requests  int           `json:"requests"`
	Errors    int           `json:"errors"`
	Elapsed   time.Duration `json:"-"`
	PerSecond float64       `json:"per_second"`
	P50       time.Duration `json:"-"`
	P90       time.Duration `json:"-"`
	P99       time.Duration `json:"-"`
	Max       time.Duration `json:"-"`
	// FirstError describes the first failure, to tell a broken setup from
	// an overloaded server.
	FirstError string `json:"first_error,omitempty"`
}

// run drives the load until the duration passes, the request budget is
// spent or ctx ends, whichever comes first. Requests in flight when the
// duration passes finish and count; ctx's end cancels them.
func (l load) run(ctx context.Context) loadResult {
	var budget atomic.Int64
	budget.Store(int64(l.Requests))
	var stopped atomic.Bool
	timer := time.AfterFunc(l.Duration, func() { stopped.Store(true) })
	defer timer.Stop()

	type worker struct {
		lat      []time.Duration
		errors   int
		firstErr string
	}
	workers := make([]worker, l.Clients)
	var wg sync.WaitGroup
	start := l.Now()
	for i := range workers {
		wg.Add(1)
		go func(w *worker, n int) {
			defer wg.Done()
			for !stopped.Load() && ctx.Err() == nil {
				if l.Requests > 0 && budget.Add(-1) < 0 {
					return
				}
				t0 := l.Now()
				var err error
				if l.Do != nil {
					err = l.Do(ctx, n)
				} else {
					err = l.once(ctx)
				}
				d := l.Now().Sub(t0)
				switch {
				case err == nil:
					w.lat = append(w.lat, d)
				case ctx.Err() != nil: // interrupted, not a failure of the server
					return
				default:
					w.errors++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
				}
			}
		}(&workers[i], i)
	}
	wg.Wait()
	r := loadResult{Elapsed: l.Now().Sub(start)}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		r.Errors += w.errors
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
	}
	r.Requests = len(all) + r.Errors
	if r.Elapsed > 0 {
		r.PerSecond = float64(len(all)) / r.Elapsed.Seconds()
	}
	slices.Sort(all)
	r.P50, r.P90, r.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	if len(all) > 0 {
		r.Max = all[len(all)-1]
	}
	return r
}

// once sends one request; anything but a 200 is an error.
func (l load) once(ctx context.Context) error {
	req, err := l.NewRequest(ctx)
	if err != nil {
		return err
	}
	return l.do(req)
}

// do sends req; anything but a 200 is an error.
func (l load) do(req *http.Request) error {
	resp, err := l.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if l.Want == "" {
		_, err = io.Copy(io.Discard, resp.Body) // read to the end, so the connection is reused
		return err
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil && !strings.Contains(string(b), l.Want) {
		err = fmt.Errorf("the answer lacks %s", l.Want)
	}
	return err
}

// percentile is the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

// errNoSuccess means a run finished without a single successful request.
var errNoSuccess = errors.New("no request succeeded")

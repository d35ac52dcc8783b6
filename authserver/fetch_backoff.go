package authserver

import (
	"fmt"
	"time"
)

// A failed fetch of a remote document (a trusted issuer's keys, a client's
// jwks_uri) is remembered: until fetchRetryFirst has passed, doubling with
// every further failure up to fetchRetryMax, requests that need the
// document are refused with the remembered error and nothing is fetched.
// Without it every request naming an unreachable or broken source would
// cost a fetch (up to 5 s each), so a burst of requests would be amplified
// against that host and tie up Portico.
const (
	fetchRetryFirst = 5 * time.Second
	fetchRetryMax   = 5 * time.Minute
)

// fetchFailure is the last failed fetch of one source: its error, how many
// failed in a row, and when the next may be tried. The zero value is "no
// failure". It is not safe for concurrent use; its owner holds a lock.
type fetchFailure struct {
	source   string
	err      error
	failures int
	retryAt  time.Time
}

// blocked returns the remembered error while source may not be fetched
// yet, nil when it may.
func (f *fetchFailure) blocked(source string, now time.Time) error {
	if f.source != source || f.err == nil || !now.Before(f.retryAt) {
		return nil
	}
	return fmt.Errorf("%w (not retried before %s)", f.err, f.retryAt.UTC().Format(time.RFC3339))
}

// failed records a failed fetch of source at now.
func (f *fetchFailure) failed(source string, err error, now time.Time) {
	if f.source != source {
		f.source, f.failures = source, 0
	}
	f.failures++
	f.err = err
	f.retryAt = now.Add(fetchRetryDelay(f.failures))
}

// succeeded forgets any failure.
func (f *fetchFailure) succeeded() { *f = fetchFailure{} }

// fetchRetryDelay is how long after the n-th failed fetch in a row the
// next one may be tried.
func fetchRetryDelay(n int) time.Duration {
	d := fetchRetryFirst
	for i := 1; i < n && d < fetchRetryMax; i++ {
		d *= 2
	}
	return min(d, fetchRetryMax)
}

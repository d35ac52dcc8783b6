//go:build unix

package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/metrics"
)

// fixedOAuth stands in for the authorization server: one path, a fixed
// JSON answer, so that what is measured is the portal in front of it.
type fixedOAuth struct{}

func (fixedOAuth) Paths() []string { return []string{"/introspect"} }
func (fixedOAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"active":false}` + "\n"))
}

// BenchmarkProtocolRouteOverhead measures what handlers.New puts in front
// of a protocol endpoint (echo's router and the middleware: request ID,
// recoverer, security headers, body limit, metrics, request log):
// "portal" is the whole stack with Prometheus metrics, "bare" the
// endpoint's handler alone. The difference is the portal's share of an
// introspection call.
func BenchmarkProtocolRouteOverhead(b *testing.B) {
	h := handlerstest.New(b, func(c *handlers.Config) {
		c.OAuth = fixedOAuth{}
		c.Metrics = metrics.New()
	})
	e := h.Server.Config.Handler
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"portal", e}, {"bare", fixedOAuth{}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, h.URL+"/introspect", strings.NewReader("token=x"))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					tc.h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far: per operation
// it says more than wall time on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build unix

package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"portico/authserver"
)

// cpuTime is the process's user and system CPU time so far. Benchmarks
// report it per operation (cpu-ns/op) beside the wall time, which on a
// shared machine says more about the neighbours than about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkIntrospectionInProcess measures introspection of a service
// access token by its own client, in process: "now" is the server,
// "before" the previous path through op's router (LegacyIntrospection,
// without the throttle's check in front).
func BenchmarkIntrospectionInProcess(b *testing.B) {
	w := newWorld(b, productionCache)
	svc, secret := w.service("orders:read")
	tok := w.send("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}, svc.ClientID, secret)
	body := url.Values{"token": {tok.str("access_token")}}.Encode()
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"now", w.srv}, {"before", authserver.LegacyIntrospection(w.srv)}} {
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, w.issuer+"/introspect", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.SetBasicAuth(svc.ClientID, secret)
					rec := httptest.NewRecorder()
					h.h.ServeHTTP(rec, req)
					if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"active":true`) {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
			reportCPU(b, start)
		})
	}
}

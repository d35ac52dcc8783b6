//go:build unix

package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"portico/authserver"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/metrics"
	"portico/store"
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

// BenchmarkIntrospectionThroughPortal is a service introspecting its own
// access token, in process: "portal" through handlers.New (metrics on),
// "authserver" the authorization server's handler alone.
func BenchmarkIntrospectionThroughPortal(b *testing.B) {
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		b.Fatal(err)
	}
	var srv *authserver.Server
	h := handlerstest.New(b, func(c *handlers.Config) {
		c.SignIn = handlers.SignInConfig{Sealer: sealer}
		c.Metrics = metrics.New()
		srv, err = authserver.New(authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: sealer,
			AllowInsecure: true, Now: c.Now,
			LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) }})
		if err != nil {
			b.Fatal(err)
		}
		c.OAuth = srv
	})
	org := h.Org(b, "acme", "acme.example")
	svc, secret, err := srv.Registrar().Register(context.Background(), org.ID, authserver.Actor{Label: "bench"},
		authserver.RegisterInput{Name: "svc", Type: store.ClientService, GrantTypes: []string{"client_credentials"}})
	if err != nil {
		b.Fatal(err)
	}
	post := func(hd http.Handler, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, h.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(svc.ClientID, secret)
		rec := httptest.NewRecorder()
		hd.ServeHTTP(rec, req)
		return rec
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	rec := post(h.Server.Config.Handler, "/token", "grant_type=client_credentials")
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	body := url.Values{"token": {tok.AccessToken}}.Encode()
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"portal", h.Server.Config.Handler}, {"authserver", srv}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if rec := post(tc.h, "/introspect", body); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"active":true`) {
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

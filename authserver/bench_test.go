package authserver_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
)

// BenchmarkClientCredentialsInProcess measures the token endpoint's own cost
// for a client-credentials request: routing, form parsing, Basic
// authentication against the cached client, the gate and an ES256 signature.
func BenchmarkClientCredentialsInProcess(b *testing.B) {
	w := newWorld(b, productionCache)
	svc, secret := w.service("orders:read")
	body := "grant_type=client_credentials&scope=orders%3Aread"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, w.issuer+"/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(svc.ClientID, secret)
			rec := httptest.NewRecorder()
			w.srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkClientCredentialsDPoPInProcess is BenchmarkClientCredentialsInProcess
// with a DPoP proof (signed beforehand) on every request.
func BenchmarkClientCredentialsDPoPInProcess(b *testing.B) {
	w := newWorld(b, productionCache)
	svc, secret := w.service("orders:read")
	body := "grant_type=client_credentials&scope=orders%3Aread"
	k := newDPoPKey(b)
	proofs := make(chan string, b.N)
	for range b.N {
		proofs <- k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, w.issuer+"/token", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(svc.ClientID, secret)
			req.Header.Set("DPoP", <-proofs)
			rec := httptest.NewRecorder()
			w.srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkClientCredentialsLoopback is the load test: 64 concurrent clients
// on 127.0.0.1 issuing client-credentials tokens over HTTP/1.1 keep-alive,
// server and clients on the same machine. It reports tokens/s and latency
// percentiles; run with -benchtime=40000x or longer for stable figures, and
// next to BenchmarkLoopbackReference, measured in the same run, because the
// two cores are shared with the load generator and whatever else runs.
func BenchmarkClientCredentialsLoopback(b *testing.B) {
	w := newWorld(b, productionCache)
	svc, secret := w.service("orders:read")
	loadTest(b, w.issuer+"/token", svc.ClientID, secret, nil)
}

// BenchmarkClientCredentialsDPoPLoopback is the same load with a DPoP proof
// on every request (RFC 9449): one more ECDSA verification, a JWK
// thumbprint, and one row in the jti replay cache. The proofs are signed
// before the timer starts (the world's clock stands still, so they stay
// fresh), so that the figure is the server's cost and not the load
// generator's. Compare it with BenchmarkClientCredentialsLoopback in the
// same run.
func BenchmarkClientCredentialsDPoPLoopback(b *testing.B) {
	dpopLoadTest(b, newDPoPKey(b))
}

// BenchmarkClientCredentialsDPoPEdDSALoopback: the same with Ed25519
// proofs, whose verification is cheaper than P-256's.
func BenchmarkClientCredentialsDPoPEdDSALoopback(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	dpopLoadTest(b, dpopKeyOf(b, priv, jose.EdDSA))
}

func dpopLoadTest(b *testing.B, k *dpopKey) {
	w := newWorld(b, productionCache)
	svc, secret := w.service("orders:read")
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})
	}
	loadTest(b, w.issuer+"/token", svc.ClientID, secret, proofs)
}

// BenchmarkLoopbackReference is the ceiling for the same harness: a handler
// that parses the form and answers a fixed token-sized JSON body, without
// authentication or signing.
func BenchmarkLoopbackReference(b *testing.B) {
	body := []byte(`{"access_token":"` + strings.Repeat("x", 560) + `","token_type":"Bearer","expires_in":600,"scope":"orders:read"}`)
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(body)
	}))
	defer ts.Close()
	loadTest(b, ts.URL+"/token", "id", "secret", nil)
}

// loadTest runs b.N client-credentials requests from 64 workers; proofs,
// when not nil, holds one DPoP proof per request.
func loadTest(b *testing.B, endpoint, id, secret string, proofs []string) {
	const workers = 64
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}.Encode()
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	next := 0
	for i := range workers {
		n := b.N / workers
		if i < b.N%workers {
			n++
		}
		first := next
		next += n
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth(id, secret)
				if proofs != nil {
					req.Header.Set("DPoP", proofs[first+j])
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*p))] }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "tokens/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99_ms")
	if testing.Verbose() {
		fmt.Printf("%s: %d requests in %v: %.0f/s, p50 %v, p99 %v, max %v\n", b.Name(),
			len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(), pct(0.5), pct(0.99), all[len(all)-1])
	}
}

// productionCache uses the default revalidation interval (tests use -1 to
// see every change at once).
func productionCache(c *authserver.Config) { c.CacheRevalidate = 0 }

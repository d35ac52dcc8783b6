package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/metrics"
)

// lockouts reads portico_lockouts_total{factor} from the metrics page.
func lockouts(t *testing.T, m *metrics.Metrics, factor string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	prefix := `portico_lockouts_total{factor="` + factor + `"} `
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	return "absent"
}

// TestClientAuthLockoutsAreCounted: the failure that blocks a client (or
// an address) and every request the block refuses count in
// portico_lockouts_total{factor="client_auth"}, as password and
// second-factor lockouts do; the series exists at zero before any; plain
// failures below the limit and successful requests do not count.
func TestClientAuthLockoutsAreCounted(t *testing.T) {
	m := metrics.New()
	w := newWorld(t, func(c *authserver.Config) {
		c.Metrics = m
		c.Throttle = authserver.Throttle{ClientFailures: 3, SourceFailures: 100, Backoff: time.Minute}
	})
	svc, secret := w.service("orders:read")
	base := viaAddr(t, w.srv)
	token := func(src, sec string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Src", src)
		req.SetBasicAuth(svc.ClientID, sec)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const attacker, service = "198.51.100.7", "203.0.113.20"

	if v := lockouts(t, m, "client_auth"); v != "0" {
		t.Fatalf("before anything: %s, want the series at 0", v)
	}
	if st := token(service, secret); st != 200 {
		t.Fatalf("client_credentials: %d", st)
	}
	for range 2 {
		if st := token(attacker, "guess"); st != 401 {
			t.Fatalf("guess: %d", st)
		}
	}
	if v := lockouts(t, m, "client_auth"); v != "0" {
		t.Fatalf("after a success and two failures below the limit: %s, want 0", v)
	}
	if st := token(attacker, "guess"); st != 401 { // the third places the block
		t.Fatalf("third guess: %d", st)
	}
	if v := lockouts(t, m, "client_auth"); v != "1" {
		t.Fatalf("after the failure that blocked the client: %s, want 1", v)
	}
	for range 2 {
		if st := token(attacker, secret); st != http.StatusTooManyRequests {
			t.Fatalf("while blocked: %d, want 429", st)
		}
	}
	if v := lockouts(t, m, "client_auth"); v != "3" {
		t.Fatalf("after two requests refused by the block: %s, want 3", v)
	}
	if v := lockouts(t, m, "password"); v != "0" {
		t.Fatalf("client lockouts counted as password lockouts: %s", v)
	}
}

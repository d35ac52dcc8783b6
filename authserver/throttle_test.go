package authserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
	"portico/store/storetest"
)

// viaAddr serves h as if every request came from the address in the
// X-Test-Src header, the way the portal passes on what its trusted proxies
// report.
func viaAddr(t *testing.T, h http.Handler) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := netip.MustParseAddr(r.Header.Get("X-Test-Src"))
		h.ServeHTTP(w, r.WithContext(authserver.WithClientAddr(r.Context(), a)))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestClientAuthenticationThrottle is finding 13: failed client
// authentication is throttled per client and per source address with
// Retry-After; the state lives in the database, so a second replica
// honours it; a blocked client still works from an address that did not
// fail; and a successful client_credentials request writes nothing.
func TestClientAuthenticationThrottle(t *testing.T) {
	limits := func(c *authserver.Config) {
		c.Throttle = authserver.Throttle{ClientFailures: 3, SourceFailures: 5, Backoff: time.Minute, MaxBackoff: 10 * time.Minute}
	}
	w := newWorld(t, limits)
	svc, secret := w.service("orders:read")
	other, otherSecret := w.service("orders:read")
	base := viaAddr(t, w.srv)
	token := func(base, src, id, sec string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Src", src)
		req.SetBasicAuth(id, sec)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	const attacker, service, elsewhere = "198.51.100.7", "203.0.113.20", "192.0.2.99"

	// A successful client_credentials request writes nothing.
	v0 := storetest.SettledVersion(t, w.st)
	for range 5 {
		if r := token(base, service, svc.ClientID, secret); r.StatusCode != 200 {
			t.Fatalf("client_credentials: %d", r.StatusCode)
		}
	}
	if v1 := storetest.SettledVersion(t, w.st); v1 != v0 {
		t.Fatalf("successful client_credentials changed the database (data version %d -> %d)", v0, v1)
	}

	// Three wrong secrets for svc block svc for the address that failed...
	for i := range 3 {
		if r := token(base, attacker, svc.ClientID, "guess"+strconv.Itoa(i)); r.StatusCode != 401 {
			t.Fatalf("guess %d: %d", i, r.StatusCode)
		}
	}
	if v2, _ := w.st.DataVersion(w.ctx); v2 == v0 {
		t.Fatal("failures left the data version alone: the no-write probe above proves nothing")
	}
	r := token(base, attacker, svc.ClientID, secret)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right secret from the failing address while blocked: %d, want 429", r.StatusCode)
	}
	if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// A body the form parser refuses does not slip past the block: it is
	// refused whole, on every endpoint that counts failures.
	for _, c := range []struct{ path, body string }{
		{"/token", "grant_type=client_credentials&%zz"},
		{"/introspect", "token=x&%zz"},
		{"/introspect", "token=x;y"},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-Src", attacker)
		req.SetBasicAuth(svc.ClientID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "error parsing form") {
			t.Fatalf("%s with a malformed body while blocked: %d %s, want 400", c.path, resp.StatusCode, b)
		}
	}
	// ...but not for the service itself, whose address did not fail.
	if r := token(base, service, svc.ClientID, secret); r.StatusCode != 200 {
		t.Fatalf("the service from its own address: %d", r.StatusCode)
	}
	// A second replica on the same database sees the same block.
	srv2, err := authserver.New(authserver.Config{Issuer: w.issuer, Store: w.st, Sealer: w.sealer, AllowInsecure: true,
		CacheRevalidate: -1, Now: w.clock, LoginURL: func(string) string { return "/login" },
		Throttle: authserver.Throttle{ClientFailures: 3, SourceFailures: 5, Backoff: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if r := token(viaAddr(t, srv2), attacker, svc.ClientID, secret); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second replica: %d, want 429", r.StatusCode)
	}

	// Two more failures (any client, unknown ones too) block the address
	// for every client.
	for _, id := range []string{"no-such-client", other.ClientID} {
		if r := token(base, attacker, id, "nope"); r.StatusCode != 401 {
			t.Fatalf("failure for %s: %d", id, r.StatusCode)
		}
	}
	if r := token(base, attacker, other.ClientID, otherSecret); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("blocked address, another client: %d, want 429", r.StatusCode)
	}
	if r := token(base, elsewhere, other.ClientID, otherSecret); r.StatusCode != 200 {
		t.Fatalf("another address: %d", r.StatusCode)
	}
	// Introspection and revocation are throttled alike (client_secret_post here).
	req, _ := http.NewRequest(http.MethodPost, base+"/introspect", strings.NewReader(url.Values{"token": {"x"},
		"client_id": {other.ClientID}, "client_secret": {otherSecret}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-Src", attacker)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("introspection from a blocked address: %v %v", resp.StatusCode, err)
	}

	// The blocks end: after the backoff the right secret works again.
	w.advance(11 * time.Minute)
	if r := token(base, attacker, svc.ClientID, secret); r.StatusCode != 200 {
		t.Fatalf("after the backoff: %d", r.StatusCode)
	}
	// And the housekeeping sweep removes what has expired.
	w.advance(time.Hour)
	if _, err := w.srv.Sweep(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.st.ClientAuthFailures(w.ctx, "addr:"+attacker, time.Time{}); err != nil || n != 0 {
		t.Fatalf("after the sweep: %d %v", n, err)
	}
	_ = store.ClientService
}

// TestClientAuthBlockReachesAnotherReplica: counting failures does not move
// the data version (anyone can fail, and a moving version empties every
// cache), yet a block placed on one replica reaches another replica with its
// own Store on the same database, whose block list was already loaded.
func TestClientAuthBlockReachesAnotherReplica(t *testing.T) {
	thr := authserver.Throttle{ClientFailures: 3, SourceFailures: 5, Backoff: time.Minute}
	w := newWorld(t, func(c *authserver.Config) { c.Throttle = thr })
	svc, secret := w.service("orders:read")
	st2 := storetest.OpenDSN(t, w.path)
	srv2, err := authserver.New(authserver.Config{Issuer: w.issuer, Store: st2, Sealer: w.sealer, AllowInsecure: true,
		CacheRevalidate: -1, Now: w.clock, LoginURL: func(string) string { return "/login" }, Throttle: thr})
	if err != nil {
		t.Fatal(err)
	}
	base, base2 := viaAddr(t, w.srv), viaAddr(t, srv2)
	token := func(base, src, sec string) int {
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
	const attacker = "198.51.100.7"
	if s := token(base2, attacker, secret); s != 200 {
		t.Fatalf("second replica before any failure: %d", s)
	}
	v := storetest.SettledVersion(t, w.st)
	for i := range 2 {
		if s := token(base, attacker, "guess"+strconv.Itoa(i)); s != 401 {
			t.Fatalf("guess %d: %d", i, s)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if got, _ := w.st.DataVersion(w.ctx); got != v {
		t.Fatalf("failures under the limit moved the data version: %d -> %d", v, got)
	}
	if s := token(base, attacker, "guess2"); s != 401 {
		t.Fatalf("guess 2: %d", s)
	}
	if got, _ := w.st.DataVersion(w.ctx); got == v {
		t.Fatal("placing a block left the data version alone")
	}
	start := time.Now()
	for token(base2, attacker, secret) != http.StatusTooManyRequests {
		if time.Since(start) > 2*time.Second {
			t.Fatal("the second replica did not honour the block within 2 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("block seen by the second replica after %v", time.Since(start))
}

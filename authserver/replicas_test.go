package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"portico/authserver"
	"portico/store"
)

// replica starts a second authorization server on the world's database, as
// another replica behind the same issuer would run. It answers on its own
// address; proofs name the shared issuer's URLs.
func (w *world) replica(opts ...func(*authserver.Config)) string {
	w.t.Helper()
	cfg := authserver.Config{Issuer: w.issuer, Store: w.st, Sealer: w.sealer, AllowInsecure: true, CacheRevalidate: -1,
		LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) }, Now: w.clock}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := authserver.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	w.t.Cleanup(ts.Close)
	return ts.URL
}

// TestSingleUseHoldsAcrossReplicas: a DPoP proof used at one replica is a
// replay at another, a nonce from one is good at the other, and a
// request_uri works once whichever replica sees it.
func TestSingleUseHoldsAcrossReplicas(t *testing.T) {
	nonces := func(c *authserver.Config) { c.DPoPNonce = true }
	w := newWorld(t, nonces)
	other := w.replica(nonces)
	c, secret := w.service("orders:read")
	k := newDPoPKey(t)
	htu := w.issuer + "/token"
	nonce := w.send("/token", ccForm, c.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{})).header.Get("DPoP-Nonce")
	proof := k.proof("POST", htu, w.clock(), proofOpts{nonce: nonce})
	if r := w.send("/token", ccForm, c.ClientID, secret, proof); r.status != 200 {
		t.Fatalf("first replica: %d %v", r.status, r.body)
	}
	at := func(base string, form url.Values, id, secret string, proofs ...string) reply {
		req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		for _, p := range proofs {
			req.Header.Add("DPoP", p)
		}
		return w.roundTrip(req)
	}
	wantOAuthError(t, at(other, ccForm, c.ClientID, secret, proof), 400, "invalid_dpop_proof")
	if r := at(other, ccForm, c.ClientID, secret, k.proof("POST", htu, w.clock(), proofOpts{nonce: nonce})); r.status != 200 {
		t.Fatalf("the other replica refused the first one's nonce: %d %v", r.status, r.body)
	}

	web, webSecret := w.web("orders:read")
	_, challenge := pkce()
	ru := w.push(authParams(web.ClientID, challenge), web.ClientID, webSecret).str("request_uri")
	q := url.Values{"client_id": {web.ClientID}, "request_uri": {ru}}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
		Get(other + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/login?auth_request=") {
		t.Fatalf("the other replica did not take the request_uri: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if u, status, body := w.authorizeURI(web.ClientID, ru); u != nil || status != 400 || !strings.Contains(body, "invalid_request_uri") {
		t.Fatalf("second use at the first replica: %d %v %s", status, u, body)
	}
}

// TestConcurrentUsesOfOneProof: of many simultaneous requests with the same
// proof, exactly one gets a token.
func TestConcurrentUsesOfOneProof(t *testing.T) {
	w := newWorld(t)
	c, secret := w.service("orders:read")
	proof := newDPoPKey(t).proof("POST", w.issuer+"/token", w.clock(), proofOpts{})
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := w.send("/token", ccForm, c.ClientID, secret, proof)
			switch {
			case r.status == 200:
				ok.Add(1)
			case r.str("error") == "invalid_dpop_proof":
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || refused.Load() != 15 {
		t.Fatalf("%d tokens, %d refusals", ok.Load(), refused.Load())
	}
}

// TestDPoPReplayRefusedAcrossProcesses: replicas that share only the
// database (each its own store, pool and first-level replay cache) refuse
// a proof another one accepted, also when the uses race; on SQLite and,
// with PORTICO_TEST_ENGINE=postgres, on PostgreSQL.
func TestDPoPReplayRefusedAcrossProcesses(t *testing.T) {
	w := newWorld(t)
	st2, err := store.Open(w.ctx, w.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	other := w.replica(func(c *authserver.Config) { c.Store = st2 })
	c, secret := w.service("orders:read")
	k := newDPoPKey(t)
	htu := w.issuer + "/token"
	at := func(base, proof string) reply {
		req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(ccForm.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ClientID, secret)
		req.Header.Set("DPoP", proof)
		return w.roundTrip(req)
	}
	for i := range 3 {
		first, second := w.issuer, other
		if i%2 == 1 {
			first, second = other, w.issuer
		}
		p := k.proof("POST", htu, w.clock(), proofOpts{})
		if r := at(first, p); r.status != 200 {
			t.Fatalf("first use: %d %v", r.status, r.body)
		}
		wantOAuthError(t, at(second, p), 400, "invalid_dpop_proof")
		wantOAuthError(t, at(first, p), 400, "invalid_dpop_proof")
	}
	// Races: each proof sent 4 times to each replica at once.
	for range 5 {
		p := k.proof("POST", htu, w.clock(), proofOpts{})
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			base := w.issuer
			if i%2 == 1 {
				base = other
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if at(base, p).status == 200 {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d tokens for one proof", ok.Load())
		}
	}
}

package authserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

// pathGate permits API calls under /open and denies the rest, remembering
// what the authorizer told it.
type pathGate struct {
	mu   sync.Mutex
	last *authserver.APIFacts
	ip   netip.Addr
}

func (g *pathGate) Check(_ context.Context, r authserver.GateRequest) (authserver.Verdict, error) {
	if r.Point != authserver.PointAPIRequest {
		return authserver.Verdict{Action: authserver.Permit}, nil
	}
	g.mu.Lock()
	g.last, g.ip = r.API, r.Context.IP
	g.mu.Unlock()
	if strings.HasPrefix(r.API.Path, "/open") {
		return authserver.Verdict{Action: authserver.Permit, DecisionID: "d-permit"}, nil
	}
	return authserver.Verdict{Action: authserver.Deny, Reason: "closed", DecisionID: "d-deny"}, nil
}

func authorizerWorld(t testing.TB, trusted ...netip.Prefix) (*world, *authserver.Authorizer, *pathGate, string) {
	return authorizerWorldWith(t, nil, trusted...)
}

func authorizerWorldWith(t testing.TB, opt func(*authserver.Config), trusted ...netip.Prefix) (*world, *authserver.Authorizer, *pathGate, string) {
	g := &pathGate{}
	w := newWorld(t, func(c *authserver.Config) {
		c.Gate = authserver.Chain{authserver.DefaultGate{}, g}
		if opt != nil {
			opt(c)
		}
	})
	svc, secret := w.service("orders:read")
	status, body := w.post("/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}, svc.ClientID, secret)
	tok, _ := body["access_token"].(string)
	if status != 200 || tok == "" {
		t.Fatalf("token: %d %v", status, body)
	}
	return w, w.srv.Authorizer(authserver.AuthorizerConfig{Trusted: trusted}), g, tok
}

func authzCall(a http.Handler, peer, target string, h map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.RemoteAddr = peer + ":5000"
	for k, v := range h {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec
}

func TestAuthorizerDialects(t *testing.T) {
	_, a, g, tok := authorizerWorld(t)
	bearer := "Bearer " + tok
	for _, c := range []struct {
		name, target string
		h            map[string]string
		method, path string
		host         string
	}{
		{"nginx", "/authz", map[string]string{"Authorization": bearer, "X-Original-URI": "/open/x?a=1", "X-Original-Method": "post",
			"X-Forwarded-Host": "API.example:8443"}, "POST", "/open/x", "api.example"},
		{"traefik and caddy", "/authz", map[string]string{"Authorization": bearer, "X-Forwarded-Uri": "/open/./y/../z",
			"X-Forwarded-Method": "DELETE", "X-Forwarded-Host": "api.example"}, "DELETE", "/open/z", "api.example"},
		{"envoy", "/authz/envoy/open/e?q=1", map[string]string{"Authorization": bearer}, "GET", "/open/e", "example.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := authzCall(a, "127.0.0.1", c.target, c.h)
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			f := g.last
			if f.Method != c.method || f.Path != c.path || f.Host != c.host {
				t.Fatalf("facts %s %s %s, want %s %s %s", f.Method, f.Path, f.Host, c.method, c.path, c.host)
			}
			if rec.Header().Get("X-Portico-Org") != "acme" || rec.Header().Get("X-Portico-Subject") == "" ||
				rec.Header().Get("X-Portico-Scopes") != "orders:read" || rec.Header().Get("X-Portico-Decision") != "d-permit" {
				t.Fatalf("identity headers: %v", rec.Header())
			}
		})
	}
}

func TestAuthorizerRefusals(t *testing.T) {
	w, a, _, tok := authorizerWorld(t)
	orig := map[string]string{"X-Original-URI": "/closed", "X-Original-Method": "GET"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range orig {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	rec := authzCall(a, "127.0.0.1", "/authz", orig)
	if rec.Code != 401 || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), `Bearer realm="`+w.issuer+`", DPoP realm=`) ||
		strings.Contains(rec.Header().Get("WWW-Authenticate"), "error=") {
		t.Fatalf("no token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec = authzCall(a, "127.0.0.1", "/authz", with(map[string]string{"Authorization": "Bearer " + tok + "x"}))
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("damaged token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec = authzCall(a, "127.0.0.1", "/authz", with(map[string]string{"Authorization": "Bearer " + tok}))
	if rec.Code != 403 || rec.Header().Get("X-Portico-Decision") != "d-deny" || rec.Header().Get("X-Portico-Subject") != "" {
		t.Fatalf("policy deny: %d %v", rec.Code, rec.Header())
	}
	if strings.Contains(rec.Body.String(), "closed") || !strings.Contains(rec.Body.String(), `"decision":"d-deny"`) {
		t.Fatalf("a refusal shows the policy's reason or lacks the reference: %s", rec.Body)
	}
	rec = authzCall(a, "127.0.0.1", "/authz", with(map[string]string{"Authorization": "DPoP " + tok}))
	if rec.Code != 401 || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "DPoP ") {
		t.Fatalf("an unbound token under the DPoP scheme: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec = authzCall(a, "127.0.0.1", "/authz", map[string]string{"Authorization": "Bearer " + tok})
	if rec.Code != 403 {
		t.Fatalf("no original request: %d", rec.Code)
	}
	rec = authzCall(a, "127.0.0.1", "/authz", with(map[string]string{"Authorization": "Bearer " + tok, "X-Original-URI": "/open%2F..%2Fclosed"}))
	if rec.Code != 403 {
		t.Fatalf("encoded slash: %d", rec.Code)
	}
	// Suspension refuses the token at once.
	if _, _, err := w.st.UpdateOrganization(w.ctx, w.org.ID, func(o *store.Organization) error { o.Status = store.OrgSuspended; return nil }); err != nil {
		t.Fatal(err)
	}
	rec = authzCall(a, "127.0.0.1", "/authz", with(map[string]string{"Authorization": "Bearer " + tok, "X-Original-URI": "/open"}))
	if rec.Code != 401 {
		t.Fatalf("suspended organization: %d", rec.Code)
	}
}

// TestAuthorizerDPoP: a DPoP-bound token passes the authorizer only with
// a proof for the ORIGINAL call the gateway forwards (its method and URL,
// not the subrequest's), bound to the token (ath) and from the token's key
// (cnf.jkt), used once; every failure is a 401 with a DPoP challenge.
func TestAuthorizerDPoP(t *testing.T) {
	w, a, g, _ := authorizerWorld(t)
	svc, secret := w.service("orders:read")
	k := newDPoPKey(t)
	r := w.send("/token", ccForm, svc.ClientID, secret, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))
	tok := r.str("access_token")
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	const api = "https://api.example:8443/open/customers/c-1"
	nginx := func(authz, proof string) map[string]string {
		h := map[string]string{"Authorization": authz, "X-Original-URI": "/open/customers/c-1?page=2", "X-Original-Method": "POST",
			"X-Forwarded-Host": "api.example:8443", "X-Forwarded-Proto": "https"}
		if proof != "" {
			h["DPoP"] = proof
		}
		return h
	}
	now := w.clock()
	good := k.proof("POST", api, now, proofOpts{token: tok})
	rec := authzCall(a, "127.0.0.1", "/authz", nginx("DPoP "+tok, good))
	if rec.Code != 200 || !g.last.SenderConstrained || rec.Header().Get("X-Portico-Subject") == "" {
		t.Fatalf("valid proof: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	other := newDPoPKey(t)
	for _, c := range []struct {
		name, authz, proof, code string
	}{
		{"replayed proof", "DPoP " + tok, good, "invalid_dpop_proof"},
		{"bound token as bearer", "Bearer " + tok, k.proof("POST", api, now, proofOpts{token: tok}), "invalid_token"},
		{"no proof", "DPoP " + tok, "", "invalid_dpop_proof"},
		{"proof for the subrequest", "DPoP " + tok, k.proof("GET", w.issuer+"/authz", now, proofOpts{token: tok}), "invalid_dpop_proof"},
		{"wrong method", "DPoP " + tok, k.proof("GET", api, now, proofOpts{token: tok}), "invalid_dpop_proof"},
		{"wrong host", "DPoP " + tok, k.proof("POST", "https://other.example:8443/open/customers/c-1", now, proofOpts{token: tok}), "invalid_dpop_proof"},
		{"wrong path", "DPoP " + tok, k.proof("POST", "https://api.example:8443/open/customers/c-2", now, proofOpts{token: tok}), "invalid_dpop_proof"},
		{"no ath", "DPoP " + tok, k.proof("POST", api, now, proofOpts{}), "invalid_dpop_proof"},
		{"ath of another token", "DPoP " + tok, k.proof("POST", api, now, proofOpts{token: tok + "x"}), "invalid_dpop_proof"},
		{"another key", "DPoP " + tok, other.proof("POST", api, now, proofOpts{token: tok}), "invalid_dpop_proof"},
		{"stale proof", "DPoP " + tok, k.proof("POST", api, now.Add(-5*time.Minute), proofOpts{token: tok}), "invalid_dpop_proof"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := authzCall(a, "127.0.0.1", "/authz", nginx(c.authz, c.proof))
			ch := rec.Header().Get("WWW-Authenticate")
			if rec.Code != 401 || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="`+c.code+`"`) || !strings.Contains(ch, `algs="ES256`) ||
				rec.Header().Get("X-Portico-Subject") != "" {
				t.Fatalf("%d %q", rec.Code, ch)
			}
		})
	}
	// Envoy's ext_authz: the original method, path and Host arrive as such.
	req := httptest.NewRequest(http.MethodPut, "/authz/envoy/open/e?q=1", nil)
	req.RemoteAddr, req.Host = "127.0.0.1:5000", "api.example"
	req.Header.Set("Authorization", "DPoP "+tok)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("DPoP", k.proof("PUT", "https://api.example/open/e", now, proofOpts{token: tok}))
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("envoy: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
}

// TestAuthorizerDPoPNonce: with server nonces on, a proof without the
// current nonce gets 401 use_dpop_nonce and a DPoP-Nonce to retry with.
func TestAuthorizerDPoPNonce(t *testing.T) {
	w, a, _, _ := authorizerWorldWith(t, func(c *authserver.Config) { c.DPoPNonce = true })
	svc, secret := w.service("orders:read")
	k := newDPoPKey(t)
	nonce := w.send("/token", ccForm, svc.ClientID, secret, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})).header.Get("DPoP-Nonce")
	r := w.send("/token", ccForm, svc.ClientID, secret, k.proof("POST", w.issuer+"/token", w.clock(), proofOpts{nonce: nonce}))
	tok := r.str("access_token")
	if r.status != 200 {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	h := map[string]string{"Authorization": "DPoP " + tok, "X-Forwarded-Uri": "/open/x", "X-Forwarded-Method": "GET",
		"X-Forwarded-Host": "api.example", "X-Forwarded-Proto": "https",
		"DPoP": k.proof("GET", "https://api.example/open/x", w.clock(), proofOpts{token: tok})}
	rec := authzCall(a, "127.0.0.1", "/authz", h)
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`) || rec.Header().Get("DPoP-Nonce") == "" {
		t.Fatalf("without nonce: %d %v", rec.Code, rec.Header())
	}
	h["DPoP"] = k.proof("GET", "https://api.example/open/x", w.clock(), proofOpts{token: tok, nonce: rec.Header().Get("DPoP-Nonce")})
	if rec := authzCall(a, "127.0.0.1", "/authz", h); rec.Code != 200 {
		t.Fatalf("with nonce: %d %v", rec.Code, rec.Header())
	}
}

// Only trusted gateways may state the original request and the client's
// address: a caller that is not one is refused, and a trusted gateway's
// X-Forwarded-For is read from the right, past trusted hops only.
func TestAuthorizerTrustsOnlyItsGateways(t *testing.T) {
	_, a, g, tok := authorizerWorld(t, netip.MustParsePrefix("10.0.0.0/8"))
	h := map[string]string{"Authorization": "Bearer " + tok, "X-Forwarded-Uri": "/open", "X-Forwarded-Method": "GET",
		"X-Forwarded-For": "203.0.113.9, 198.51.100.7, 10.1.1.1"}
	if rec := authzCall(a, "127.0.0.1", "/authz", h); rec.Code != 403 {
		t.Fatalf("untrusted caller: %d", rec.Code)
	}
	if rec := authzCall(a, "127.0.0.1", "/authz/envoy/open", map[string]string{"Authorization": "Bearer " + tok}); rec.Code != 403 {
		t.Fatalf("untrusted caller on the Envoy path: %d", rec.Code)
	}
	if rec := authzCall(a, "10.0.0.2", "/authz", h); rec.Code != 200 {
		t.Fatalf("trusted gateway: %d %s", rec.Code, rec.Body)
	}
	// 10.1.1.1 is a trusted hop; 198.51.100.7 is the first one that is not:
	// the client's claim of 203.0.113.9 is not believed.
	if g.ip != netip.MustParseAddr("198.51.100.7") {
		t.Fatalf("client address %v, want 198.51.100.7", g.ip)
	}
}

// BenchmarkAuthorizerPermit is the authorizer's whole handler on the
// permit path with a cached key: token verification, revocation and
// standing lookups, the gate, the identity headers.
func BenchmarkAuthorizerPermit(b *testing.B) {
	_, a, _, tok := authorizerWorldWith(b, productionCache)
	h := http.Header{"Authorization": {"Bearer " + tok}, "X-Original-Uri": {"/open/customers/c-1"}, "X-Original-Method": {"GET"},
		"X-Forwarded-Host": {"api.example"}, "X-Forwarded-For": {"198.51.100.7"}}
	var took []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		req := &http.Request{Method: "GET", URL: &url.URL{Path: "/authz"}, Header: h, RemoteAddr: "127.0.0.1:5000", Host: "portico"}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req.WithContext(context.Background()))
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

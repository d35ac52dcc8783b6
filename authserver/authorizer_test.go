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
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="`+w.issuer+`"` {
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
		t.Fatalf("DPoP before support: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
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

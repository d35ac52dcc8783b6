package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
)

// BenchmarkAuthorizerWiredPermit is the authorizer's permit path as the
// portal serves it: the wired handler (echo, its middleware, the
// authorizer), the real policy engine with the seed's Customers policy
// attached to /customers/ (rules), and the sales rep's token reading an
// assigned customer, as nginx's auth_request asks it. The keys and the
// policy are cached after the first call. It reports the 99th percentile
// of single calls (p99-µs) beside the mean.
func BenchmarkAuthorizerWiredPermit(b *testing.B) {
	ctx := context.Background()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig([]string{"--db", filepath.Join(b.TempDir(), "portico.db"), "--issuer", base})
	if err != nil {
		b.Fatal(err)
	}
	a, err := wire(ctx, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = a.handler
	srv.Start()
	defer func() { srv.Close(); a.close() }()
	st := a.store
	if err := st.CreateScope(ctx, &store.Scope{Name: "customers:read"}); err != nil {
		b.Fatal(err)
	}
	plan := store.Plan{Slug: "gold", Name: "Gold", Features: []store.Feature{{Name: "customers", Scopes: []string{"customers:read"}}}}
	if err := st.CreatePlan(ctx, &plan); err != nil {
		b.Fatal(err)
	}
	acme := store.Organization{Slug: "acme", Name: "Acme", PlanID: plan.ID}
	if err := st.CreateOrganization(ctx, &acme); err != nil {
		b.Fatal(err)
	}
	rep := store.User{OrgID: acme.ID, Email: "rep@acme.example", Name: "Rep", Role: store.RoleMember, Status: store.UserActive,
		IdPGroups: []string{"sales"}, Attributes: map[string]string{"assigned_customers": "c-1,c-2"}}
	if err := st.CreateUser(ctx, &rep); err != nil {
		b.Fatal(err)
	}
	doc, err := os.ReadFile("../../policyeditor/testdata/api_customers.json")
	if err != nil {
		b.Fatal(err)
	}
	svc := &policyeditor.Service{Store: st, Now: time.Now}
	saved, err := svc.Import(ctx, store.Actor{Label: "bench"}, doc)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.AttachRoute(ctx, store.Actor{Label: "bench"}, saved.Policy.ID, store.APIRoute{PathPrefix: "/customers/"}); err != nil {
		b.Fatal(err)
	}
	const redirect = "http://127.0.0.1:9/cb"
	reg := a.oauth.Registrar()
	crm, crmSecret, err := reg.Register(ctx, acme.ID, store.Actor{Label: "bench"}, authserver.RegisterInput{Name: "CRM",
		Type: store.ClientWeb, RedirectURIs: []string{redirect}, Scopes: []string{"customers:read"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := reg.SetFirstParty(ctx, acme.ID, crm.ClientID, store.Actor{Label: "bench"}, true); err != nil {
		b.Fatal(err)
	}
	// The rep's token: the code flow, the portal's login page replaced by
	// the call it makes once the user has signed in.
	verifier := "0123456789012345678901234567890123456789abc"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {crm.ClientID}, "redirect_uri": {redirect}, "scope": {"customers:read"},
		"state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(base + "/authorize?" + q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	to, err := a.oauth.CompleteLogin(ctx, loc.Query().Get("auth_request"), authserver.LoginUser{UserID: rep.ID, AuthTime: time.Now(), AMR: []string{"pwd"}})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(to)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	treq, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	treq.SetBasicAuth(url.QueryEscape(crm.ClientID), url.QueryEscape(crmSecret))
	tresp, err := http.DefaultClient.Do(treq)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(tresp.Body).Decode(&tok)
	tresp.Body.Close()
	if tok.AccessToken == "" {
		b.Fatalf("token: %d", tresp.StatusCode)
	}

	h := http.Header{"Authorization": {"Bearer " + tok.AccessToken}, "X-Original-Uri": {"/customers/c-2"}, "X-Original-Method": {"GET"},
		"X-Forwarded-Host": {"api.acme.example"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-For": {"198.51.100.7"}}
	call := func() int {
		req := httptest.NewRequest(http.MethodGet, "/authz", nil)
		req.Header = h.Clone()
		req.RemoteAddr = "127.0.0.1:5000"
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := call(); code != 200 {
		b.Fatalf("first call: %d", code)
	}
	h.Set("X-Original-Uri", "/customers/c-3")
	if code := call(); code != 403 {
		b.Fatalf("another customer: %d", code)
	}
	h.Set("X-Original-Uri", "/customers/c-2")
	var took []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if code := call(); code != 200 {
			b.Fatalf("%d", code)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

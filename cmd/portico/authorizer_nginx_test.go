package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"portico/authserver"
	"portico/examples/gomiddleware"
	"portico/store"
)

// nginxPath finds nginx, or skips the test; under CI=true a missing nginx
// fails it, because CI installs nginx for exactly this test.
func nginxPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is not installed, and CI=true requires it: apt-get install -y nginx")
	}
	t.Skip("nginx is not installed (apt-get install -y nginx); the gateway end-to-end test needs it")
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startGatewayNginx runs examples/gateways/nginx.conf with its upstreams pointed
// at api and portico, in a temporary prefix, in the foreground (no daemon,
// no master process: it works as root and as any other user). It returns
// the gateway's base URL.
func startGatewayNginx(t *testing.T, bin, api, portico string) string {
	t.Helper()
	conf, err := os.ReadFile("../../examples/gateways/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	listen := freePort(t)
	s := string(conf)
	for old, new := range map[string]string{
		"server 127.0.0.1:9001;": "server " + api + ";",
		"server 127.0.0.1:8080;": "server " + portico + ";",
		"listen 127.0.0.1:8443;": "listen " + listen + ";",
		"http {": "http {\n    access_log off;\n    client_body_temp_path " + dir + "/body;\n    proxy_temp_path " + dir +
			"/proxy;\n    fastcgi_temp_path " + dir + "/fastcgi;\n    uwsgi_temp_path " + dir + "/uwsgi;\n    scgi_temp_path " + dir + "/scgi;",
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("nginx.conf no longer has %q", old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	s = fmt.Sprintf("daemon off;\nmaster_process off;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n", dir, dir) + s
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", dir+"/error.log", "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(dir + "/error.log")
			t.Logf("nginx output: %s\nerror.log: %s", out.String(), log)
		}
	})
	base := "http://" + listen
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return base
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(dir + "/error.log")
			t.Fatalf("nginx did not start: %s %s", out.String(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuthorizerBehindNginx is issue 14's gateway test: nginx with
// auth_request in front of an API, Portico (real server, real SQLite) as
// the authorizer, and the seed's Customers policy attached to /customers.
func TestAuthorizerBehindNginx(t *testing.T) {
	ctx := context.Background()

	// The API: it answers with what the gateway told it about the caller.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s subject=%s org=%s", r.Method, r.URL.Path, r.Header.Get("X-Portico-Subject"), r.Header.Get("X-Portico-Org"))
	}))
	defer api.Close()

	// Portico.
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	db := filepath.Join(t.TempDir(), "portico.db")
	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig([]string{"--db", db, "--issuer", base})
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(ctx, c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.handler
	srv.Start()
	defer func() { srv.Close(); a.close() }()
	st := a.store

	if err := st.CreateScope(ctx, &store.Scope{Name: "customers:read", Description: "Read customers"}); err != nil {
		t.Fatal(err)
	}
	plan := store.Plan{Slug: "crm", Name: "CRM", Features: []store.Feature{{Name: "customers", Scopes: []string{"customers:read"}}}}
	if err := st.CreatePlan(ctx, &plan); err != nil {
		t.Fatal(err)
	}
	org := func(slug string) store.Organization {
		o := store.Organization{Slug: slug, Name: slug, PlanID: plan.ID}
		if err := st.CreateOrganization(ctx, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	acme, globex, initech := org("acme"), org("globex"), org("initech")
	rep := store.User{OrgID: acme.ID, Email: "rep@acme.example", Name: "Rep", Role: store.RoleMember, Status: store.UserActive, IdPGroups: []string{"sales"}}
	if err := st.CreateUser(ctx, &rep); err != nil {
		t.Fatal(err)
	}
	tc := &testCLI{t: t, env: map[string]string{"PORTICO_DB": db}}
	tc.mustRun("user", "set-attribute", "--org", "acme", "--email", rep.Email, "--name", "assigned_customers", "--value", "c-1,c-2")

	reg := a.oauth.Registrar()
	actor := store.Actor{Label: "test"}
	const redirect = "http://127.0.0.1:9/cb"
	crm, crmSecret, err := reg.Register(ctx, acme.ID, actor, authserver.RegisterInput{Name: "CRM", Type: store.ClientWeb,
		RedirectURIs: []string{redirect}, Scopes: []string{"customers:read"}})
	if err != nil {
		t.Fatal(err)
	}
	// The portal's own CRM: first party, so no consent step.
	if _, err := reg.SetFirstParty(ctx, acme.ID, crm.ClientID, actor, true); err != nil {
		t.Fatal(err)
	}
	service := func(o store.Organization) (string, string) {
		cl, secret, err := reg.Register(ctx, o.ID, actor, authserver.RegisterInput{Name: o.Slug + " sync", Type: store.ClientService,
			Scopes: []string{"customers:read"}, GrantTypes: []string{"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		return cl.ClientID, secret
	}

	// The seed's Customers policy, imported and attached from the CLI.
	tc.mustRun("policy", "import", "../../policyeditor/testdata/api_customers.json")
	tc.mustRun("policy", "attach", "--policy", "Customers API", "--route", "/customers/")
	if out := tc.mustRun("policy", "list"); !strings.Contains(out, "used by: API requests under /customers") {
		t.Fatalf("policy list: %s", out)
	}
	// An organization-level resource condition: a partner reaches only the
	// regions its contract names (an organization attribute, set by CLI).
	regions := filepath.Join(t.TempDir(), "regions.json")
	os.WriteFile(regions, []byte(`{"name": "Regions API", "kind": "api_request", "default": "deny", "rules": [
		{"conditions": [{"type": "path", "in": ["/regions/{region}", "/regions/{region}/**"]},
			{"type": "param_in_attribute", "param": "region", "attribute": "regions", "of": "org"}], "action": "permit"}]}`), 0o600)
	tc.mustRun("policy", "import", regions)
	tc.mustRun("policy", "attach", "--policy", "Regions API", "--route", "/regions/")
	tc.mustRun("org", "set-attribute", "--slug", "initech", "--name", "regions", "--value", "eu,us")

	tokenPost := func(form url.Values, id, secret string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			AccessToken string `json:"access_token"`
		}
		raw, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(raw, &body); body.AccessToken == "" {
			t.Fatalf("token: %d %s", resp.StatusCode, raw)
		}
		return body.AccessToken
	}
	machineToken := func(o store.Organization) string {
		id, secret := service(o)
		return tokenPost(url.Values{"grant_type": {"client_credentials"}, "scope": {"customers:read"}}, id, secret)
	}
	// The rep's token: the code flow, with the portal's login page replaced
	// by the call it makes once the user has signed in.
	repToken := func() string {
		verifier := "0123456789012345678901234567890123456789abc"
		sum := sha256.Sum256([]byte(verifier))
		challenge := base64.RawURLEncoding.EncodeToString(sum[:])
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		q := url.Values{"response_type": {"code"}, "client_id": {crm.ClientID}, "redirect_uri": {redirect}, "scope": {"openid customers:read"},
			"state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		resp, err := noFollow.Get(base + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		id := loc.Query().Get("auth_request")
		if id == "" {
			t.Fatalf("authorize: %d to %v", resp.StatusCode, loc)
		}
		to, err := a.oauth.CompleteLogin(ctx, id, authserver.LoginUser{UserID: rep.ID, AuthTime: time.Now(), AMR: []string{"pwd"}})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(to)
		code := u.Query().Get("code")
		if code == "" {
			t.Fatalf("login completed to %s", to)
		}
		return tokenPost(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"code_verifier": {verifier}}, crm.ClientID, crmSecret)
	}

	// A Go API guarded by examples/gomiddleware asks the same Portico.
	guarded := httptest.NewServer(gomiddleware.Middleware(gomiddleware.Config{AuthorizerURL: base + "/authz"})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who, _ := gomiddleware.FromContext(r.Context())
			fmt.Fprintf(w, "%s %s", who.Subject, who.Org)
		})))
	defer guarded.Close()
	goCall := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", guarded.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	goTok := repToken()
	if code, body := goCall("/customers/c-1", goTok); code != 200 || body != rep.ID+" acme" {
		t.Fatalf("Go middleware, assigned customer: %d %q", code, body)
	}
	// The route was attached by another process (the CLI): this server's
	// caches see it on their next revalidation (every 20 ms), so the
	// first calls may still find no route, where a valid token suffices.
	code, _ := goCall("/customers/c-3", goTok)
	for deadline := time.Now().Add(2 * time.Second); code == 200 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		code, _ = goCall("/customers/c-3", goTok)
	}
	if code != 403 {
		t.Fatalf("Go middleware, another customer: %d", code)
	}

	bin := nginxPath(t)
	gw := startGatewayNginx(t, bin, strings.TrimPrefix(api.URL, "http://"), srv.Listener.Addr().String())
	call := func(method, path, token string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, gw+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		// A client claiming an identity of its own must not be believed.
		req.Header.Set("X-Portico-Subject", "admin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	// No token: 401 with the RFC 6750 challenge.
	if code, h, _ := call("GET", "/customers/c-1", ""); code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer realm=") {
		t.Fatalf("no token: %d %q", code, h.Get("WWW-Authenticate"))
	}
	// A damaged token: 401 invalid_token.
	if code, h, _ := call("GET", "/customers/c-1", "not.a.token"); code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %q", code, h.Get("WWW-Authenticate"))
	}
	// Another organization's token: 403 with the decision's reference.
	code, h, _ := call("GET", "/customers/c-1", machineToken(globex))
	if code != 403 || h.Get("X-Portico-Decision") == "" {
		t.Fatalf("globex: %d, decision %q", code, h.Get("X-Portico-Decision"))
	}
	// The sales rep: their own customer, not another.
	tok := repToken()
	code, _, body := call("GET", "/customers/c-2", tok)
	if code != 200 || body != "GET /customers/c-2 subject="+rep.ID+" org=acme" {
		t.Fatalf("rep reads assigned customer: %d %q", code, body)
	}
	if code, _, _ := call("GET", "/customers/c-3", tok); code != 403 {
		t.Fatalf("rep reads another customer: %d", code)
	}
	if code, _, _ := call("DELETE", "/customers/c-2", tok); code != 403 {
		t.Fatalf("rep deletes a customer: %d", code)
	}
	// A DPoP-bound token (RFC 9449) through nginx: the proof names the
	// URL the client called at the gateway, is good once, and the bound
	// token is no bearer token.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	proof := func(method, htu, token string) string {
		p, err := signDPoP(signer, method, htu, token, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	dpopCall := func(scheme, token, p string) (int, http.Header) {
		req, _ := http.NewRequest("GET", gw+"/status", nil)
		req.Header.Set("Authorization", scheme+" "+token)
		req.Header.Set("DPoP", p)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	acmeID, acmeSecret := service(acme)
	tokReq, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader("grant_type=client_credentials&scope=customers%3Aread"))
	tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tokReq.SetBasicAuth(url.QueryEscape(acmeID), url.QueryEscape(acmeSecret))
	tokReq.Header.Set("DPoP", proof("POST", base+"/token", ""))
	tokResp, err := http.DefaultClient.Do(tokReq)
	if err != nil {
		t.Fatal(err)
	}
	var bound struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	json.NewDecoder(tokResp.Body).Decode(&bound)
	tokResp.Body.Close()
	if bound.TokenType != "DPoP" {
		t.Fatalf("DPoP token: %+v", bound)
	}
	used := proof("GET", gw+"/status", bound.AccessToken)
	if code, h := dpopCall("DPoP", bound.AccessToken, used); code != 200 {
		t.Fatalf("DPoP call through nginx: %d %v", code, h)
	}
	if code, h := dpopCall("DPoP", bound.AccessToken, used); code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `DPoP realm=`) ||
		!strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_dpop_proof"`) {
		t.Fatalf("replayed proof through nginx: %d %q", code, h.Get("WWW-Authenticate"))
	}
	if code, _ := dpopCall("Bearer", bound.AccessToken, proof("GET", gw+"/status", bound.AccessToken)); code != 401 {
		t.Fatalf("bound token as a bearer token through nginx: %d", code)
	}

	// Outside every route a valid token suffices.
	partner := machineToken(initech)
	if code, _, body := call("GET", "/status", partner); code != 200 || !strings.Contains(body, "org=initech") {
		t.Fatalf("partner before suspension: %d %q", code, body)
	}
	// The partner's regions: those its organization has, and no other.
	code, _, _ = call("GET", "/regions/eu/orders", partner)
	for deadline := time.Now().Add(2 * time.Second); code == 403 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the CLI's attribute reaches the cache
		code, _, _ = call("GET", "/regions/eu/orders", partner)
	}
	if code != 200 {
		t.Fatalf("partner in its region: %d", code)
	}
	if code, _, _ := call("GET", "/regions/apac/orders", partner); code != 403 {
		t.Fatalf("partner in another region: %d", code)
	}
	if code, _, _ := call("GET", "/regions/eu/orders", machineToken(globex)); code != 403 {
		t.Fatalf("an organization without the attribute: %d", code)
	}
	// Suspending the partner (from another process: the CLI) refuses its
	// token at once.
	tc.mustRun("org", "update", "--slug", "initech", "--status", "suspended")
	time.Sleep(50 * time.Millisecond) // the caches revalidate every 20 ms
	if code, _, _ := call("GET", "/status", partner); code != 401 && code != 403 {
		t.Fatalf("partner after suspension: %d", code)
	}

	// Every answer is in the decision log.
	time.Sleep(300 * time.Millisecond) // the recorder writes every 100 ms
	ds, err := st.Decisions(ctx, store.DecisionFilter{Point: "api_request"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) < 10 {
		t.Fatalf("%d api_request decisions recorded, want every answer (10)", len(ds))
	}
}

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/store/storetest"
)

// TestReplicasOnPostgres runs two `portico serve` processes on one
// PostgreSQL database behind nginx (round robin) and checks what must hold
// across replicas: a session made on one works on the other, a token
// revoked on one is inactive on the other, two replicas racing one refresh
// token let exactly one through and revoke the family, and a CLI change is
// seen by both. It needs PostgreSQL (PORTICO_TEST_POSTGRES) and nginx; it
// skips without them, except under CI=true.
func TestReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two portals, nginx and PostgreSQL")
	}
	dsn := storetest.PostgresDSN(t)
	nginx := findNginx(t)
	bin := buildPortico(t)

	key := make([]byte, 32)
	rand.Read(key)
	secretKey := base64.StdEncoding.EncodeToString(key)
	ports := freePorts(t, 3)
	issuer := fmt.Sprintf("http://127.0.0.1:%d", ports[2])
	env := append(os.Environ(), "PORTICO_DB="+dsn, "PORTICO_SECRET_KEY="+secretKey, "PORTICO_ISSUER="+issuer,
		"PORTICO_TRUSTED_PROXIES=127.0.0.1", "PORTICO_LOG_LEVEL=warn")

	// Both replicas start together on the empty database: one migrates and
	// makes the first administrator, the other waits and finds them.
	outs := make([]*lockedBuffer, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		outs[i] = &lockedBuffer{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			startReplica(t, bin, env, ports[i], outs[i])
		}()
	}
	wg.Wait()
	r1 := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	r2 := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	startNginx(t, nginx, ports[2], ports[0], ports[1])

	all := outs[0].String() + outs[1].String()
	if n := strings.Count(all, "First run"); n != 1 {
		t.Fatalf("%d replicas made a first administrator, want 1:\n%s", n, all)
	}
	m := printedPassword.FindStringSubmatch(all)
	if m == nil {
		t.Fatalf("no first-run password:\n%s", all)
	}
	password := m[1]

	// A session made on one replica works on the other.
	b := newReplicaBrowser(t)
	b.origin = issuer
	b.get(r1 + "/login")
	r := b.post(r1+"/login", url.Values{"email": {firstAdmin}, "password": {password}, "_csrf": {b.csrf(r1)}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in on replica 1: %d\n%s", r.StatusCode, r.body)
	}
	// The first administrator replaces the printed password first.
	pw := b.get(r1 + "/account/password")
	tok := csrfField.FindStringSubmatch(pw.body)
	if tok == nil {
		t.Fatalf("no password form: %d\n%s", pw.StatusCode, pw.body)
	}
	if r := b.post(r1+"/account/password", url.Values{"current": {password}, "password": {"replicas admin passphrase"},
		"confirm": {"replicas admin passphrase"}, "_csrf": {tok[1]}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("changing the first-run password: %d\n%s", r.StatusCode, r.body)
	}
	if r := b.get(r2 + "/"); r.StatusCode != http.StatusOK {
		t.Fatalf("replica 2 does not know replica 1's session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r := b.get(issuer + "/"); r.StatusCode != http.StatusOK {
		t.Fatalf("through nginx: %d", r.StatusCode)
	}

	// What the CLI creates while both run is seen by both.
	cli := &testCLI{t: t, env: map[string]string{"PORTICO_DB": dsn, "PORTICO_SECRET_KEY": secretKey}}
	cli.mustRun("scope", "create", "--name", "orders:read")
	var svc, web clientJSON
	mustJSON(t, cli.mustRun("client", "create", "--org", platformSlug, "--name", "Sync", "--type", "service",
		"--scope", "orders:read", "--json"), &svc)
	const redirect = "http://127.0.0.1:9/cb"
	mustJSON(t, cli.mustRun("client", "create", "--org", platformSlug, "--name", "Web", "--type", "web",
		"--redirect-uri", redirect, "--scope", "openid offline_access", "--grant-type", "authorization_code",
		"--grant-type", "refresh_token", "--json"), &web)
	// The platform's own app: no consent page between sign-in and the code.
	cli.mustRun("client", "update", "--client-id", web.ClientID, "--first-party")

	var disc struct {
		Token, Introspect, Revoke, Authorize string
	}
	var raw map[string]any
	mustJSON(t, b.get(issuer+"/.well-known/openid-configuration").body, &raw)
	path := func(k string) string { u, _ := url.Parse(fmt.Sprint(raw[k])); return u.Path }
	disc.Token, disc.Introspect = path("token_endpoint"), path("introspection_endpoint")
	disc.Revoke, disc.Authorize = path("revocation_endpoint"), path("authorization_endpoint")

	token := func(base string, form url.Values, id, secret string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, base+disc.Token, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return doJSON(t, req)
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}
	var at string
	for i, base := range []string{r1, r2} {
		st, body := token(base, cc, svc.ClientID, svc.ClientSecret)
		if st != http.StatusOK {
			t.Fatalf("replica %d does not see the client the CLI made: %d %v", i+1, st, body)
		}
		at = fmt.Sprint(body["access_token"])
	}

	// A token revoked on one replica is inactive on the other.
	introspect := func(base, tok string) bool {
		req, _ := http.NewRequest(http.MethodPost, base+disc.Introspect, strings.NewReader(url.Values{"token": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(svc.ClientID), url.QueryEscape(svc.ClientSecret))
		st, body := doJSON(t, req)
		if st != http.StatusOK {
			t.Fatalf("introspection: %d %v", st, body)
		}
		return body["active"] == true
	}
	if !introspect(r2, at) {
		t.Fatal("a fresh token is inactive on replica 2")
	}
	req, _ := http.NewRequest(http.MethodPost, r1+disc.Revoke, strings.NewReader(url.Values{"token": {at}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(svc.ClientID), url.QueryEscape(svc.ClientSecret))
	if st, body := doJSON(t, req); st != http.StatusOK {
		t.Fatalf("revocation on replica 1: %d %v", st, body)
	}
	eventually(t, "the token revoked on replica 1 is inactive on replica 2", func() bool { return !introspect(r2, at) })

	// Two replicas racing one refresh token: exactly one wins, and the
	// family is revoked, so the winner's new token is refused too.
	verifier := base64.RawURLEncoding.EncodeToString(key)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {web.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid offline_access"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	code := b.followToCode(r1+disc.Authorize+"?"+q.Encode(), r1, redirect)
	st, body := token(r2, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"code_verifier": {verifier}}, web.ClientID, web.ClientSecret)
	rt, _ := body["refresh_token"].(string)
	if st != http.StatusOK || rt == "" {
		t.Fatalf("code exchange on replica 2: %d %v", st, body)
	}
	type result struct {
		status int
		body   map[string]any
	}
	results := make([]result, 2)
	start := make(chan struct{})
	for i, base := range []string{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i].status, results[i].body = token(base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}},
				web.ClientID, web.ClientSecret)
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for i, r := range results {
		if r.status == http.StatusOK {
			if won >= 0 {
				t.Fatalf("both replicas accepted the same refresh token: %+v", results)
			}
			won = i
		} else if r.body["error"] != "invalid_grant" {
			t.Fatalf("replica %d: %d %v", i+1, r.status, r.body)
		}
	}
	if won < 0 {
		t.Fatalf("neither replica accepted the refresh token: %+v", results)
	}
	next, _ := results[won].body["refresh_token"].(string)
	if st, body := token(issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}},
		web.ClientID, web.ClientSecret); st == http.StatusOK || body["error"] != "invalid_grant" {
		t.Fatalf("the family was not revoked after the race: %d %v", st, body)
	}

	// A CLI change to a running installation reaches both replicas.
	cli.mustRun("client", "disable", "--client-id", svc.ClientID)
	for i, base := range []string{r1, r2} {
		eventually(t, fmt.Sprintf("replica %d refuses the client the CLI disabled", i+1), func() bool {
			st, _ := token(base, cc, svc.ClientID, svc.ClientSecret)
			return st != http.StatusOK
		})
	}
}

// findNginx returns nginx's path; without it the test skips (fails in CI).
func findNginx(t *testing.T) string {
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is not installed (apt-get install nginx-light); CI runs the replica test")
	}
	t.Skip("nginx is not installed (apt-get install nginx-light): replica test skipped")
	return ""
}

// buildPortico builds this command into a temporary directory.
func buildPortico(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "portico")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startReplica starts `portico serve` on port and waits for /healthz.
func startReplica(t *testing.T, bin string, env []string, port int, out *lockedBuffer) {
	cmd := exec.Command(bin, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	waitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d/healthz", port), out)
}

func waitHealthy(t *testing.T, u string, out fmt.Stringer) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(u); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%s did not come up:\n%s", u, out)
}

// startNginx runs nginx in the foreground, one process, as the current
// user, round robin over the replicas.
func startNginx(t *testing.T, nginx string, port int, backends ...int) {
	t.Helper()
	dir := t.TempDir()
	var up strings.Builder
	for _, p := range backends {
		fmt.Fprintf(&up, "    server 127.0.0.1:%d;\n", p)
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream portico {
%[2]s  }
  server {
    listen 127.0.0.1:%[3]d;
    location / {
      proxy_pass http://portico;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`, dir, up.String(), port)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd := exec.Command(nginx, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d/healthz", port), &out)
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within a second: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &body)
	if body == nil {
		body = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, body
}

// replicaBrowser is a cookie-keeping client that does not follow redirects.
// Cookies do not depend on the port, so one jar serves every replica.
type replicaBrowser struct {
	t *testing.T
	c *http.Client
	// origin is the issuer: the portal refuses a form posted from any
	// other origin, whichever replica the request reaches.
	origin string
}

type replicaResponse struct {
	*http.Response
	body string
}

func newReplicaBrowser(t *testing.T) *replicaBrowser {
	jar, _ := cookiejar.New(nil)
	return &replicaBrowser{t: t, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *replicaBrowser) do(req *http.Request) replicaResponse {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return replicaResponse{resp, string(raw)}
}

func (b *replicaBrowser) get(u string) replicaResponse {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *replicaBrowser) post(u string, form url.Values) replicaResponse {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	return b.do(req)
}

func (b *replicaBrowser) csrf(base string) string {
	b.t.Helper()
	// The token is the one the page's form carries: it is bound to this
	// browser (or its session), and the cookie is not a token.
	if m := csrfField.FindStringSubmatch(b.get(base + "/login").body); m != nil {
		return m[1]
	}
	b.t.Fatal("no CSRF token")
	return ""
}

// followToCode follows the redirects of an authorization request (on base
// for relative ones) until one reaches redirect, and returns its code.
func (b *replicaBrowser) followToCode(start, base, redirect string) string {
	b.t.Helper()
	u := start
	for range 10 {
		r := b.get(u)
		loc := r.Header.Get("Location")
		if r.StatusCode/100 != 3 || loc == "" {
			b.t.Fatalf("authorization stopped at %s: %d\n%.2000s", u, r.StatusCode, r.body)
		}
		if strings.HasPrefix(loc, redirect) {
			p, _ := url.Parse(loc)
			if c := p.Query().Get("code"); c != "" {
				return c
			}
			b.t.Fatalf("no code in %s", loc)
		}
		if strings.HasPrefix(loc, "/") {
			loc = base + loc
		}
		u = loc
	}
	b.t.Fatal("too many redirects")
	return ""
}

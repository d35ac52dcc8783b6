package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestCrashSafety is the crash test: a real `portico serve` (the built
// binary) under mixed write load — client credentials with a
// machine-to-machine policy attached, authorize → code → token, refresh
// rotation, dashboard launches and dynamic client registration, each with a
// policy that records its decision — is killed with SIGKILL at a random
// moment, again and again, and restarted with no manual step. Afterwards
// every success the load generator saw must have left its rows: a decision
// per token, code, refresh, launch and registration; the refresh family of
// every code exchange, whose newest refresh token works once and only once;
// every registered client; every code refused a second time; the signing
// key of every token issued still verifying; and SQLite's foreign keys
// intact. The last round ends with SIGTERM instead, under the same load:
// the server must drain, flush and exit within the bound, losing nothing.
//
// It runs on SQLite and on PostgreSQL (PORTICO_TEST_POSTGRES), 20 kills
// each by default; PORTICO_CRASH_ROUNDS sets more for a longer run, and
// PORTICO_CRASH_BINARY tests another build instead of this one. -short
// skips it.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: builds portico and kills it 20 times per engine")
	}
	if storetest.Engine() == storetest.Postgres {
		// It picks both engines itself; CI's PostgreSQL pass would only
		// repeat the default pass.
		t.Skip("the crash test runs on both engines in the default pass")
	}
	rounds := 20
	if s := os.Getenv("PORTICO_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("PORTICO_CRASH_ROUNDS=%q: want a positive number", s)
		}
		rounds = n
	}
	bin := os.Getenv("PORTICO_CRASH_BINARY") // another build, e.g. to see an older one fail
	if bin == "" {
		bin = buildPortico(t)
	}
	t.Run("sqlite", func(t *testing.T) {
		crashRounds(t, bin, filepath.Join(t.TempDir(), "portico.db"), rounds)
	})
	t.Run("postgres", func(t *testing.T) {
		crashRounds(t, bin, storetest.PostgresDSN(t), rounds)
	})
}

// crashServer is one `portico serve` process at a time on a fixed port.
type crashServer struct {
	t    *testing.T
	bin  string
	env  []string
	port int
	cmd  *exec.Cmd
	out  *lockedBuffer
}

func (s *crashServer) start() {
	s.t.Helper()
	s.out = &lockedBuffer{}
	s.cmd = exec.Command(s.bin, "serve", "--addr", fmt.Sprintf("127.0.0.1:%d", s.port))
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = s.env, s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	waitHealthy(s.t, fmt.Sprintf("http://127.0.0.1:%d/healthz", s.port), s.out)
	if s.t.Failed() {
		s.t.FailNow()
	}
}

// kill is kill -9: no drain, no flush, no deferred function runs.
func (s *crashServer) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
}

// stop is SIGTERM and waits for the process to end by itself.
func (s *crashServer) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("serve after SIGTERM: %v\n%s", err, s.out)
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		s.t.Errorf("serve did not stop within 30 s of SIGTERM")
	}
}

// crashFamily is the refresh-token chain of one code exchange, as the load
// generator saw it. uncertain: a refresh was sent whose answer was lost
// with the process, so the newest token the client holds may be spent.
type crashFamily struct {
	tokens    []string
	uncertain bool
	busy      bool
}

// crashLoad is the load generator and what it saw succeed.
type crashLoad struct {
	t                                                   *testing.T
	base, tokenURL, authorizeURL, registerURL, introURL string
	svc, web                                            clientJSON
	regToken, redirect                                  string
	jar                                                 http.CookieJar

	mu       sync.Mutex
	ok       map[string]int // successes per decision point
	families []*crashFamily
	codes    []string // exchanged codes
	clients  []string // registered client IDs
	tokens   []string // one access token per round
}

func (l *crashLoad) count(point string) {
	l.mu.Lock()
	l.ok[point]++
	l.mu.Unlock()
}

func (l *crashLoad) client(jar bool) *http.Client {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: false},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if jar {
		c.Jar = l.jar
	}
	return c
}

func (l *crashLoad) token(hc *http.Client, form url.Values, id, secret string) (int, map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, l.tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return crashJSON(hc, req)
}

func crashJSON(hc *http.Client, req *http.Request) (int, map[string]any, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err // the answer was cut off: not a success
	}
	var body map[string]any
	json.Unmarshal(raw, &body)
	return resp.StatusCode, body, nil
}

// run drives every kind of write until stop closes.
func (l *crashLoad) run(stop <-chan struct{}) {
	var wg sync.WaitGroup
	loop := func(f func(hc *http.Client)) {
		wg.Go(func() {
			hc := l.client(true)
			for {
				select {
				case <-stop:
					return
				default:
				}
				f(hc)
			}
		})
	}
	for range 2 {
		loop(l.clientCredentials)
	}
	loop(l.codeFlow)
	loop(l.refresh)
	loop(l.launch)
	loop(l.register)
	wg.Wait()
}

func (l *crashLoad) clientCredentials(hc *http.Client) {
	st, body, err := l.token(hc, url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}, l.svc.ClientID, l.svc.ClientSecret)
	if err != nil || st != http.StatusOK {
		l.pause(err)
		return
	}
	l.count("client_credentials")
	l.mu.Lock()
	if len(l.tokens) == 0 || len(l.tokens)%50 == 0 {
		l.tokens = append(l.tokens, fmt.Sprint(body["access_token"]))
	} else {
		l.tokens[len(l.tokens)-1] = fmt.Sprint(body["access_token"])
	}
	l.mu.Unlock()
}

// pause backs off a little while the server is down.
func (l *crashLoad) pause(err error) {
	if err != nil {
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *crashLoad) codeFlow(hc *http.Client) {
	var v [32]byte
	rand.Read(v[:])
	verifier := base64.RawURLEncoding.EncodeToString(v[:])
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {l.web.ClientID}, "redirect_uri": {l.redirect}, "response_type": {"code"},
		"scope": {"openid offline_access"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	u := l.authorizeURL + "?" + q.Encode()
	code := ""
	for range 10 {
		resp, err := hc.Get(u)
		if err != nil {
			l.pause(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return
		}
		if strings.HasPrefix(loc, l.redirect) {
			p, _ := url.Parse(loc)
			code = p.Query().Get("code")
			break
		}
		if strings.HasPrefix(loc, "/") {
			loc = l.base + loc
		}
		u = loc
	}
	if code == "" {
		return
	}
	l.count("authorize")
	st, body, err := l.token(hc, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {l.redirect},
		"code_verifier": {verifier}}, l.web.ClientID, l.web.ClientSecret)
	rt, _ := body["refresh_token"].(string)
	if err != nil || st != http.StatusOK || rt == "" {
		l.pause(err)
		return
	}
	l.mu.Lock()
	l.codes = append(l.codes, code)
	l.families = append(l.families, &crashFamily{tokens: []string{rt}})
	l.mu.Unlock()
}

func (l *crashLoad) refresh(hc *http.Client) {
	l.mu.Lock()
	var f *crashFamily
	for i := len(l.families) - 1; i >= 0; i-- {
		if c := l.families[i]; !c.uncertain && !c.busy && len(c.tokens) < 20 {
			f = c
			break
		}
	}
	if f != nil {
		f.busy = true
	}
	l.mu.Unlock()
	if f == nil {
		time.Sleep(10 * time.Millisecond)
		return
	}
	st, body, err := l.token(hc, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.tokens[len(f.tokens)-1]}},
		l.web.ClientID, l.web.ClientSecret)
	rt, _ := body["refresh_token"].(string)
	l.mu.Lock()
	defer l.mu.Unlock()
	f.busy = false
	switch {
	case err != nil:
		// The rotation may have committed with its answer lost.
		f.uncertain = true
		time.Sleep(20 * time.Millisecond)
	case st == http.StatusOK && rt != "":
		f.tokens = append(f.tokens, rt)
		l.ok["refresh"]++
	default:
		l.t.Errorf("refresh of a family the server answered for was refused: %d %v", st, body)
		f.uncertain = true
	}
}

func (l *crashLoad) launch(hc *http.Client) {
	resp, err := hc.Get(l.base + "/launch/" + url.PathEscape(l.web.ClientID))
	if err != nil {
		l.pause(err)
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "https://app.example/launch") {
		l.count("launch")
	}
}

func (l *crashLoad) register(hc *http.Client) {
	body := `{"client_name":"crash","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}`
	req, _ := http.NewRequest(http.MethodPost, l.registerURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.regToken)
	st, out, err := crashJSON(hc, req)
	id, _ := out["client_id"].(string)
	if err != nil || st != http.StatusCreated || id == "" {
		l.pause(err)
		return
	}
	l.mu.Lock()
	l.clients = append(l.clients, id)
	l.ok["registration"]++
	l.mu.Unlock()
}

var regTokenShown = regexp.MustCompile(`id="reg-token">([^<]+)<`)

func crashRounds(t *testing.T, bin, db string, rounds int) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	secretKey := base64.StdEncoding.EncodeToString(key)
	port := freePorts(t, 1)[0]
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	srv := &crashServer{t: t, bin: bin, port: port,
		env: append(os.Environ(), "PORTICO_DB="+db, "PORTICO_SECRET_KEY="+secretKey, "PORTICO_ISSUER="+base, "PORTICO_LOG_LEVEL=warn")}

	// Set up with the CLI while no server runs, then sign in once: the
	// session must outlive every crash.
	cli := &testCLI{t: t, env: map[string]string{"PORTICO_DB": db, "PORTICO_SECRET_KEY": secretKey}}
	srv.start()
	m := printedPassword.FindStringSubmatch(srv.out.String())
	if m == nil {
		t.Fatalf("no first-run password:\n%s", srv.out)
	}
	password := m[1]
	srv.kill()
	cli.mustRun("scope", "create", "--name", "orders:read")
	l := &crashLoad{t: t, base: base, redirect: "http://127.0.0.1:9/cb", ok: map[string]int{}}
	mustJSON(t, cli.mustRun("client", "create", "--org", platformSlug, "--name", "Sync", "--type", "service",
		"--scope", "orders:read", "--json"), &l.svc)
	mustJSON(t, cli.mustRun("client", "create", "--org", platformSlug, "--name", "Web", "--type", "web",
		"--redirect-uri", l.redirect, "--scope", "openid offline_access", "--grant-type", "authorization_code",
		"--grant-type", "refresh_token", "--launch-url", "https://app.example/launch", "--json"), &l.web)
	cli.mustRun("client", "update", "--client-id", l.web.ClientID, "--first-party")
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"Machines":     `{"name":"Machines","kind":"machine_to_machine","rules":[],"default":"permit"}`,
		"People":       `{"name":"People","kind":"user_access","rules":[],"default":"permit"}`,
		"Registration": `{"name":"Registration","kind":"client_registration","rules":[],"default":"permit"}`,
	} {
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		cli.mustRun("policy", "import", p)
	}
	cli.mustRun("policy", "attach", "--m2m", "--policy", "Machines")
	cli.mustRun("policy", "attach", "--client", l.web.ClientID, "--policy", "People")
	cli.mustRun("policy", "attach", "--registration", "--policy", "Registration")

	srv.start()
	var raw map[string]any
	{
		resp, err := http.Get(base + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
	}
	l.tokenURL, l.authorizeURL = fmt.Sprint(raw["token_endpoint"]), fmt.Sprint(raw["authorization_endpoint"])
	l.registerURL, l.introURL = fmt.Sprint(raw["registration_endpoint"]), fmt.Sprint(raw["introspection_endpoint"])
	b := newReplicaBrowser(t)
	b.origin = base
	r := b.post(base+"/login", url.Values{"email": {firstAdmin}, "password": {password}, "_csrf": {b.csrf(base)}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", r.StatusCode, r.body)
	}
	l.jar = b.c.Jar
	apps := b.get(base + "/apps")
	csrf := csrfField.FindStringSubmatch(apps.body)
	if csrf == nil {
		t.Fatalf("no CSRF token on /apps: %d", apps.StatusCode)
	}
	r = b.post(base+"/apps/registration-tokens", url.Values{"_csrf": {csrf[1]}, "description": {"crash"}, "ttl": {"168h"}, "max_uses": {"0"}})
	if m := regTokenShown.FindStringSubmatch(r.body); m != nil {
		l.regToken = m[1]
	} else {
		t.Fatalf("no registration token: %d\n%.2000s", r.StatusCode, r.body)
	}

	for round := range rounds {
		if round > 0 {
			srv.start() // no manual step: migrations, keys and sessions as they were
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { l.run(stop); close(done) }()
		n, _ := rand.Int(rand.Reader, big.NewInt(1200))
		time.Sleep(300*time.Millisecond + time.Duration(n.Int64())*time.Millisecond)
		if round == rounds-1 {
			// The last round ends with SIGTERM under the same load: the
			// server drains its requests, flushes the decision log and
			// exits by itself within the bound.
			began := time.Now()
			srv.stop()
			if took := time.Since(began); took > 20*time.Second {
				t.Errorf("graceful shutdown took %v", took)
			}
		} else {
			srv.kill()
		}
		close(stop)
		<-done
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("successes over %d kills: %v, %d families, %d registered clients", rounds, l.ok, len(l.families), len(l.clients))
	for _, p := range []string{"client_credentials", "authorize", "refresh", "launch", "registration"} {
		if l.ok[p] == 0 {
			t.Errorf("no %s succeeded: the load did not exercise it", p)
		}
	}

	// After the last crash: what the clients were told must hold.
	srv.start()
	hc := l.client(false)
	checked := 0
	for _, f := range l.families {
		if f.uncertain {
			continue
		}
		checked++
		last := f.tokens[len(f.tokens)-1]
		st, body, err := l.token(hc, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {last}}, l.web.ClientID, l.web.ClientSecret)
		if err != nil || st != http.StatusOK {
			t.Errorf("the newest refresh token of a family (%d rotations) was lost: %d %v %v", len(f.tokens)-1, st, body, err)
			continue
		}
		if st, body, _ := l.token(hc, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {last}}, l.web.ClientID, l.web.ClientSecret); st == http.StatusOK {
			t.Errorf("a refresh token was usable twice: %v", body)
		}
		if len(f.tokens) > 1 {
			if st, _, _ := l.token(hc, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.tokens[0]}}, l.web.ClientID, l.web.ClientSecret); st == http.StatusOK {
				t.Error("a rotated refresh token was accepted")
			}
		}
	}
	if checked == 0 {
		t.Error("no refresh family to check")
	}
	for _, code := range l.codes {
		st, body, err := l.token(hc, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {l.redirect}},
			l.web.ClientID, l.web.ClientSecret)
		if err != nil || st == http.StatusOK {
			t.Errorf("a code was usable twice: %d %v %v", st, body, err)
		}
	}
	for _, at := range l.tokens {
		req, _ := http.NewRequest(http.MethodPost, l.introURL, strings.NewReader(url.Values{"token": {at}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(l.svc.ClientID), url.QueryEscape(l.svc.ClientSecret))
		if st, body, err := crashJSON(hc, req); err != nil || st != http.StatusOK || body["active"] != true {
			t.Errorf("a token issued before a crash no longer verifies (signing key lost?): %d %v %v", st, body, err)
		}
	}
	srv.stop()

	// The rows behind every success.
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pg := store.IsPostgres(db)
	for point, clientID := range map[string]string{"client_credentials": l.svc.ClientID, "authorize": l.web.ClientID,
		"refresh": l.web.ClientID, "launch": l.web.ClientID, "registration": ""} {
		n := countDecisions(t, st.DB(), pg, point, clientID)
		if n < l.ok[point] {
			t.Errorf("%s: %d successful responses but %d decisions in the log: %d lost", point, l.ok[point], n, l.ok[point]-n)
		}
	}
	for _, id := range l.clients {
		if _, err := st.LookupClient(ctx, id); err != nil {
			t.Errorf("registered client %s was lost: %v", id, err)
		}
	}
	if !pg {
		rows, err := st.DB().QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var table, parent string
			var rowid, fkid sql.NullInt64
			rows.Scan(&table, &rowid, &parent, &fkid)
			t.Errorf("foreign key broken: %s row %v -> %s", table, rowid, parent)
		}
		rows.Close()
		var ok string
		if err := st.DB().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			t.Errorf("integrity check: %q %v", ok, err)
		}
	}
}

// countDecisions counts the permits logged at point (for clientID, unless
// empty).
func countDecisions(t *testing.T, db *sql.DB, pg bool, point, clientID string) int {
	t.Helper()
	q := `SELECT COUNT(*) FROM decisions d JOIN decision_refs p ON p.id = d.point_ref
		LEFT JOIN decision_refs c ON c.id = d.client_ref WHERE p.value = ? AND d.action = 'permit'`
	args := []any{"p:" + point}
	if clientID != "" {
		q += ` AND c.value = ?`
		args = append(args, "c:"+clientID)
	}
	if pg {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("count decisions: %v", err)
	}
	return n
}

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
)

// `portico bench paths` measures every path a person or a partner waits on
// (issue 17) and the token endpoint on PostgreSQL replicas (issue 12), each
// against a reference measured in the same round right after it, in rounds
// that alternate path and reference; the figures are medians over rounds.
// Everything it needs runs in this process on 127.0.0.1: the portal on a
// temporary SQLite file, the references (the dashboard's own HTML served as
// a static page, an in-memory token server, an in-memory introspection
// server) and, with --postgres, one and two portals on a throwaway database
// of that server.

// pathsFlags are the options of `portico bench paths`.
type pathsFlags struct {
	rounds     int
	duration   time.Duration
	requests   int
	conns      []int
	postgres   string
	out        string
	asJSON     bool
	only       string
	cpuprofile string
}

func (c *cli) parsePathsFlags(args []string) (pathsFlags, error) {
	var f pathsFlags
	fs := c.newFlags("bench paths")
	short := fs.Bool("short", false, "one round of a few requests per phase at 4 connections: proves every path works and reports, in seconds (tests, CI)")
	fs.IntVar(&f.rounds, "rounds", 3, "rounds; each figure is the median over rounds")
	fs.DurationVar(&f.duration, "duration", 4*time.Second, "how long each phase runs")
	fs.IntVar(&f.requests, "requests", 0, "stop each phase after this many requests (0: --duration alone)")
	conns := fs.String("conns", "8,64", "connection counts to measure at, comma-separated")
	fs.StringVar(&f.postgres, "postgres", "", "PostgreSQL server URL: also measure the token endpoint and refresh on 1 and 2 portals on a throwaway database created there (and dropped after)")
	fs.StringVar(&f.out, "out", "", "also write the markdown table to this file")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON instead of the table")
	fs.StringVar(&f.only, "only", "", "measure only the paths whose name contains this (for profiling)")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (portal and load generator) to this file")
	if err := parseArgs(fs, args); err != nil {
		return f, err
	}
	if *short {
		f.rounds, f.duration, f.requests, *conns = 1, 3*time.Second, 40, "4"
	}
	var problems []string
	for _, s := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			problems = append(problems, fmt.Sprintf("--conns: %q is not a number between 1 and 1024", s))
			continue
		}
		f.conns = append(f.conns, n)
	}
	if f.rounds < 1 || f.rounds > 20 {
		problems = append(problems, "--rounds must be between 1 and 20")
	}
	if f.duration <= 0 || f.duration > 10*time.Minute {
		problems = append(problems, "--duration must be positive and at most 10m")
	}
	if f.requests < 0 {
		problems = append(problems, "--requests must not be negative")
	}
	if f.postgres != "" && !store.IsPostgres(f.postgres) {
		problems = append(problems, "--postgres must be a postgres:// URL")
	}
	if len(problems) > 0 {
		return f, errors.New("bench paths:\n  - " + strings.Join(problems, "\n  - "))
	}
	return f, nil
}

// pathsPortal is one portal (serve's wiring) on a loopback port.
type pathsPortal struct {
	app  *app
	srv  *http.Server
	base string
}

func (p *pathsPortal) close() {
	p.srv.Close()
	p.app.close()
}

// startPathsPortals starts n portals on dsn that share one issuer (as
// replicas behind a load balancer do): the first one's address.
func startPathsPortals(ctx context.Context, c *cli, dsn, secretKey string, n int, log *slog.Logger) ([]*pathsPortal, error) {
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	issuer := "http://" + lns[0].Addr().String()
	var out []*pathsPortal
	for i, ln := range lns {
		cfg := &Config{Addr: ln.Addr().String(), DB: dsn, Issuer: issuer, rawLogLevel: "warn", rawSecretKey: secretKey}
		err := cfg.validate()
		var a *app
		if err == nil {
			quiet := *c
			quiet.stdout = io.Discard // first-run notes of a throwaway database
			a, err = wire(ctx, &quiet, cfg, log)
		}
		if err != nil {
			for _, l := range lns[i:] {
				l.Close()
			}
			for _, p := range out {
				p.close()
			}
			return nil, err
		}
		p := &pathsPortal{app: a, srv: &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second},
			base: "http://" + ln.Addr().String()}
		go p.srv.Serve(ln)
		out = append(out, p)
	}
	return out, nil
}

// pathsFixture is what the paths need on one database: a signed-in person
// (a platform admin in the developers group, at a remembered location) with
// 20 first-party web apps under IBM's example policy, a service client, and
// per worker a refresh token of its own.
type pathsFixture struct {
	portals                  []*pathsPortal
	tr                       *http.Transport
	sessions                 []*http.Client // signed in; worker i uses sessions[i%len]
	web, webSecret, redirect string
	svc, svcSecret           string
	launch                   string // path of the launched app
	authorize                string // full URL of an authorization request, on portal 1
	tokenPath, introPath     string
	accessToken              string // a service token, for introspection
	refresh                  []string
}

const (
	pathsApps     = 20
	pathsSessions = 8
	pathsRedirect = "http://127.0.0.1:9/cb"
)

func newPathsTransport(conns int) *http.Transport {
	return &http.Transport{Proxy: nil, MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func setupPathsFixture(ctx context.Context, portals []*pathsPortal, workers int, now func() time.Time) (*pathsFixture, error) {
	p := portals[0]
	st, reg := p.app.store, p.app.oauth.Registrar()
	password, err := benchAdmin(ctx, st, now)
	if err != nil {
		return nil, fmt.Errorf("bench admin: %w", err)
	}
	org, err := st.OrganizationBySlug(ctx, benchOrgSlug)
	if err != nil {
		return nil, err
	}
	user, err := st.UserByEmail(ctx, org.ID, benchAdminEmail)
	if err != nil {
		return nil, err
	}
	g := store.Group{OrgID: org.ID, Name: "developers", Source: store.GroupLocal}
	if err := st.CreateGroup(ctx, &g); err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	if _, err := st.AddGroupMember(ctx, org.ID, g.ID, user.ID); err != nil {
		return nil, err
	}
	if err := st.RememberLocation(ctx, user.ID, policyeditor.LocationOf(netip.MustParseAddr("127.0.0.1")), "", now()); err != nil {
		return nil, err
	}
	actor, ra := store.Actor{Label: "bench"}, authserver.Actor{Label: "bench"}
	policies := &policyeditor.Service{Store: st}
	saved, err := policies.Import(ctx, actor, []byte(demoPolicy))
	if err != nil {
		return nil, fmt.Errorf("IBM's policy: %w", err)
	}
	fx := &pathsFixture{portals: portals, tr: newPathsTransport(workers + 8), redirect: pathsRedirect}
	for i := range pathsApps {
		cl, secret, err := reg.Register(ctx, org.ID, ra, authserver.RegisterInput{Name: fmt.Sprintf("Bench app %02d", i+1),
			Type: store.ClientWeb, RedirectURIs: []string{pathsRedirect}, Scopes: []string{"openid", "offline_access"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, LaunchURL: fmt.Sprintf("https://app%02d.example/launch", i+1)})
		if err != nil {
			return nil, fmt.Errorf("app %d: %w", i+1, err)
		}
		if _, err := reg.SetFirstParty(ctx, org.ID, cl.ClientID, ra, true); err != nil {
			return nil, err
		}
		if err := policies.Attach(ctx, actor, saved.Policy.ID, policyeditor.Target{ClientID: cl.ClientID}); err != nil {
			return nil, err
		}
		if i == 0 {
			fx.web, fx.webSecret, fx.launch = cl.ClientID, secret, "/launch/"+url.PathEscape(cl.ClientID)
		}
	}
	svc, secret, err := reg.Register(ctx, org.ID, ra, authserver.RegisterInput{Name: "Bench service", Type: store.ClientService})
	if err != nil {
		return nil, err
	}
	fx.svc, fx.svcSecret = svc.ClientID, secret

	var disc map[string]any
	if err := getJSON(ctx, &http.Client{Transport: fx.tr}, p.base+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, err
	}
	path := func(k string) string { u, _ := url.Parse(fmt.Sprint(disc[k])); return u.Path }
	fx.tokenPath, fx.introPath = path("token_endpoint"), path("introspection_endpoint")
	verifier := base64.RawURLEncoding.EncodeToString([]byte("portico bench paths code verifier, 43+ chars"))
	sum := sha256.Sum256([]byte(verifier))
	fx.authorize = p.base + path("authorization_endpoint") + "?" + url.Values{"client_id": {fx.web}, "redirect_uri": {pathsRedirect},
		"response_type": {"code"}, "scope": {"openid offline_access"}, "state": {"bench"}, "nonce": {"bench"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()

	for range min(workers, pathsSessions) {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Transport: fx.tr, Jar: jar, Timeout: 30 * time.Second, CheckRedirect: noRedirect}
		if err := benchSignIn(ctx, hc, p.base, password); err != nil {
			return nil, err
		}
		fx.sessions = append(fx.sessions, hc)
	}
	// A refresh token per worker, each its own family: code, then exchange.
	for i := range workers {
		code, err := fx.code(ctx, i)
		if err != nil {
			return nil, err
		}
		var tok map[string]any
		if err := fx.post(ctx, p.base+fx.tokenPath, fx.web, fx.webSecret, url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "redirect_uri": {pathsRedirect}, "code_verifier": {verifier}}, &tok); err != nil {
			return nil, fmt.Errorf("code exchange: %w", err)
		}
		rt, _ := tok["refresh_token"].(string)
		if rt == "" {
			return nil, errors.New("code exchange: no refresh token")
		}
		fx.refresh = append(fx.refresh, rt)
	}
	var tok map[string]any
	if err := fx.post(ctx, p.base+fx.tokenPath, fx.svc, fx.svcSecret, url.Values{"grant_type": {"client_credentials"}}, &tok); err != nil {
		return nil, err
	}
	fx.accessToken, _ = tok["access_token"].(string)
	return fx, nil
}

func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// post sends a form with client_secret_basic and decodes a 200's JSON.
func (fx *pathsFixture) post(ctx context.Context, u, id, secret string, form url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := fx.tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// code follows one authorization request of worker's session through its
// redirects until the code arrives at the redirect URI.
func (fx *pathsFixture) code(ctx context.Context, worker int) (string, error) {
	hc, base := fx.sessions[worker%len(fx.sessions)], fx.portals[0].base
	u := fx.authorize
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return "", fmt.Errorf("authorization stopped at %s: status %d", u, resp.StatusCode)
		}
		if strings.HasPrefix(loc, fx.redirect) {
			if c := queryParam(loc, "code"); c != "" {
				return c, nil
			}
			return "", fmt.Errorf("no code in %s", loc)
		}
		if strings.HasPrefix(loc, "/") {
			loc = base + loc
		}
		u = loc
	}
	return "", errors.New("authorization: too many redirects")
}

func queryParam(u, k string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Query().Get(k)
}

// get is one GET with worker's session that must answer want.
func (fx *pathsFixture) get(ctx context.Context, worker int, u string, want int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := fx.sessions[worker%len(fx.sessions)].Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return resp, fmt.Errorf("GET %s: status %d, want %d (Location %q)", u, resp.StatusCode, want, resp.Header.Get("Location"))
	}
	return resp, nil
}

// refreshOnce rotates worker's refresh token at the portal the worker uses.
func (fx *pathsFixture) refreshOnce(ctx context.Context, worker int) error {
	var tok struct {
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	p := fx.portals[worker%len(fx.portals)]
	if err := fx.post(ctx, p.base+fx.tokenPath, fx.web, fx.webSecret, url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {fx.refresh[worker]}}, &tok); err != nil {
		return err
	}
	if tok.RefreshToken == "" || tok.IDToken != "" {
		return errors.New("refresh: no new refresh token, or an ID token nobody asked for")
	}
	fx.refresh[worker] = tok.RefreshToken
	return nil
}

// memServer is the in-memory reference: a static page (the dashboard's own
// bytes), a token server that authenticates the client, rotates refresh
// tokens in a map and signs an ES256 access token, and an introspection
// endpoint that looks the token up in a map. What Portico does minus the
// database, the policy and the framework.
type memServer struct {
	page           []byte
	id, secret     string
	key            *ecdsa.PrivateKey
	mu             sync.Mutex
	refresh        map[string]bool
	introspections map[string][]byte
	workerRT       []string
}

func newMemServer(page []byte, workers int, tokens map[string][]byte) (*memServer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	m := &memServer{page: page, id: "reference", secret: rand.Text(), key: key, refresh: map[string]bool{}, introspections: tokens}
	for range workers {
		rt := rand.Text()
		m.refresh[rt] = true
		m.workerRT = append(m.workerRT, rt)
	}
	return m, nil
}

func (m *memServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/static":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(m.page)
		return
	case "/token", "/introspect":
	default:
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != m.id || subtle.ConstantTimeCompare([]byte(secret), []byte(m.secret)) != 1 {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == "/introspect" {
		body, ok := m.introspections[r.PostForm.Get("token")]
		if !ok {
			body = []byte(`{"active":false}`)
		}
		w.Write(body)
		return
	}
	resp := map[string]any{"token_type": "Bearer", "expires_in": 300}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
	case "refresh_token":
		next := rand.Text()
		m.mu.Lock()
		ok := m.refresh[r.PostForm.Get("refresh_token")]
		if ok {
			delete(m.refresh, r.PostForm.Get("refresh_token"))
			m.refresh[next] = true
		}
		m.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		resp["refresh_token"] = next
	default:
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"unsupported_grant_type"}`))
		return
	}
	at, err := m.sign(map[string]any{"iss": "http://reference", "sub": m.id, "client_id": m.id, "jti": rand.Text(),
		"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(), "scope": "openid"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp["access_token"] = at
	json.NewEncoder(w).Encode(resp)
}

// sign makes an ES256 JWT (RFC 7515 compact, r||s signature).
func (m *memServer) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"ES256","typ":"at+jwt","kid":"ref"}`)) + "." + enc.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, m.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig), nil
}

// pathPair is a path and the reference measured right after it.
type pathPair struct {
	issue          int
	name, unit     string
	ref            string
	path, refPhase func(ctx context.Context, worker int) error
	target         string
	// met tells, from the medians, whether the target holds.
	met func(rate, ratio, p99ms float64, conns int) bool
}

// pathRow is one line of the report: medians over rounds.
type pathRow struct {
	Issue      int       `json:"issue"`
	Path       string    `json:"path"`
	Conns      int       `json:"conns"`
	Unit       string    `json:"unit"`
	Rate       float64   `json:"rate"`
	Rates      []float64 `json:"rates"`
	P50ms      float64   `json:"p50_ms"`
	P99ms      float64   `json:"p99_ms"`
	Reference  string    `json:"reference"`
	RefRate    float64   `json:"reference_rate"`
	RefP99ms   float64   `json:"reference_p99_ms"`
	Ratio      float64   `json:"ratio"`
	Ratios     []float64 `json:"ratios"`
	Errors     int       `json:"errors"`
	FirstError string    `json:"first_error,omitempty"`
	Target     string    `json:"target"`
	Met        bool      `json:"met"`
}

type pathsReport struct {
	Rounds   int       `json:"rounds"`
	Duration string    `json:"duration"`
	Requests int       `json:"requests,omitempty"`
	Started  time.Time `json:"started"`
	Took     string    `json:"took"`
	Load     string    `json:"load_average,omitempty"`
	Rows     []pathRow `json:"rows"`
}

func runBenchPaths(ctx context.Context, c *cli, args []string) error {
	f, err := c.parsePathsFlags(args)
	if err != nil {
		return err
	}
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := c.now()
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	setProcessLogger(log)
	progress := func(format string, a ...any) { fmt.Fprintf(c.stderr, "bench paths: "+format+"\n", a...) }
	workers := slices.Max(f.conns)

	dir, err := os.MkdirTemp("", "portico-bench-paths-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progress("setting up the portal on SQLite")
	sq, err := startPathsPortals(ctx, c, filepath.Join(dir, "portico.db"), "", 1, log)
	if err != nil {
		return err
	}
	defer sq[0].close()
	fx, err := setupPathsFixture(ctx, sq, workers, c.now)
	if err != nil {
		return fmt.Errorf("bench paths setup: %w", err)
	}
	defer fx.tr.CloseIdleConnections()
	dashboard, err := fx.page(ctx, sq[0].base+"/")
	if err != nil {
		return err
	}
	if n := strings.Count(string(dashboard), "/launch/"); n < pathsApps {
		return fmt.Errorf("bench paths: the dashboard shows %d launch links, want %d", n, pathsApps)
	}
	intro, err := fx.introspection(ctx, sq[0].base)
	if err != nil {
		return err
	}
	mem, err := newMemServer(dashboard, workers, map[string][]byte{fx.accessToken: intro})
	if err != nil {
		return err
	}
	refLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	refSrv := &http.Server{Handler: mem, ReadHeaderTimeout: 10 * time.Second}
	go refSrv.Serve(refLn)
	defer refSrv.Close()
	ref := "http://" + refLn.Addr().String()

	base := sq[0].base
	// /healthz as a load balancer asks it: without the session cookie.
	anonymous := &http.Client{Transport: fx.tr, Timeout: 30 * time.Second, CheckRedirect: noRedirect}
	healthz := func(ctx context.Context, w int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		return (load{Client: anonymous}).do(req)
	}
	memToken := func(form func(w int) url.Values, after func(w int, rt string)) func(ctx context.Context, w int) error {
		return func(ctx context.Context, w int) error {
			var tok struct {
				RefreshToken string `json:"refresh_token"`
			}
			if err := fx.post(ctx, ref+"/token", mem.id, mem.secret, form(w), &tok); err != nil {
				return err
			}
			if after != nil {
				after(w, tok.RefreshToken)
			}
			return nil
		}
	}
	memCC := memToken(func(int) url.Values { return url.Values{"grant_type": {"client_credentials"}} }, nil)
	memRefresh := memToken(func(w int) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {mem.workerRT[w]}}
	}, func(w int, rt string) { mem.workerRT[w] = rt })
	cc := func(fx *pathsFixture) func(ctx context.Context, w int) error {
		return func(ctx context.Context, w int) error {
			p := fx.portals[w%len(fx.portals)]
			return fx.post(ctx, p.base+fx.tokenPath, fx.svc, fx.svcSecret, url.Values{"grant_type": {"client_credentials"}}, nil)
		}
	}
	p99Under50 := func(p99 float64, conns int) bool { return conns < 64 || p99 < 50 }
	pairs := []pathPair{
		{17, "dashboard, 20 apps", "pages/s", "static 20-tile page (the dashboard's bytes)",
			func(ctx context.Context, w int) error { _, err := fx.get(ctx, w, base+"/", http.StatusOK); return err },
			func(ctx context.Context, w int) error {
				_, err := fx.get(ctx, w, ref+"/static", http.StatusOK)
				return err
			},
			"≥ 0.33 of the reference", func(_, ratio, p99 float64, n int) bool { return ratio >= 0.33 && p99Under50(p99, n) }},
		{17, "authorize → code", "codes/s", "GET /healthz",
			func(ctx context.Context, w int) error { _, err := fx.code(ctx, w); return err }, healthz,
			"≥ 2,000/s", func(rate, _, p99 float64, n int) bool { return rate >= 2000 && p99Under50(p99, n) }},
		{17, "launch, IBM's policy", "launches/s", "GET /healthz",
			func(ctx context.Context, w int) error {
				resp, err := fx.get(ctx, w, base+fx.launch, http.StatusSeeOther)
				if err == nil && !strings.HasPrefix(resp.Header.Get("Location"), "https://app01.example/") {
					err = fmt.Errorf("launch was not permitted: to %s", resp.Header.Get("Location"))
				}
				return err
			}, healthz,
			"≥ 0.3 of the reference", func(_, ratio, p99 float64, n int) bool { return ratio >= 0.3 && p99Under50(p99, n) }},
		{17, "refresh grant, no ID token", "tokens/s", "in-memory token server, refresh",
			fx.refreshOnce, memRefresh,
			"≥ 2,000/s", func(rate, _, p99 float64, n int) bool { return rate >= 2000 && p99Under50(p99, n) }},
		{17, "introspection", "answers/s", "in-memory introspection",
			func(ctx context.Context, w int) error {
				return fx.post(ctx, base+fx.introPath, fx.svc, fx.svcSecret, url.Values{"token": {fx.accessToken}}, nil)
			},
			func(ctx context.Context, w int) error {
				return fx.post(ctx, ref+"/introspect", mem.id, mem.secret, url.Values{"token": {fx.accessToken}}, nil)
			},
			"≥ 0.75 of the reference", func(_, ratio, p99 float64, n int) bool { return ratio >= 0.75 && p99Under50(p99, n) }},
	}
	// Issue 12's rows: measured at the largest connection count only.
	type group struct {
		name string
		run  func(ctx context.Context, w int) error
	}
	var ccGroup, refreshGroup []group
	var pgFx *pathsFixture
	if f.postgres != "" {
		progress("setting up 1 and 2 portals on PostgreSQL")
		dsn, drop, err := createBenchDatabase(ctx, f.postgres)
		if err != nil {
			return err
		}
		defer drop()
		key := make([]byte, 32)
		rand.Read(key)
		secretKey := base64.StdEncoding.EncodeToString(key)
		pgs, err := startPathsPortals(ctx, c, dsn, secretKey, 2, log)
		if err != nil {
			return err
		}
		defer func() {
			for _, p := range pgs {
				p.close()
			}
		}()
		// Two fixtures over the same database: one with only the first
		// portal, one spreading workers over both.
		pgFx, err = setupPathsFixture(ctx, pgs[:1], workers, c.now)
		if err != nil {
			return fmt.Errorf("bench paths setup on PostgreSQL: %w", err)
		}
		defer pgFx.tr.CloseIdleConnections()
		pg2 := *pgFx
		pg2.portals = pgs
		pg2.refresh = slices.Clone(pgFx.refresh)
		// Each worker keeps its own token chain; the 2-portal run needs its
		// own chains, made by the first portal and used on both.
		for i := range pg2.refresh {
			tok, err := pgFx.newRefresh(ctx, i)
			if err != nil {
				return err
			}
			pg2.refresh[i] = tok
		}
		ccGroup = []group{{"client credentials, SQLite, 1 portal", cc(fx)}, {"client credentials, PostgreSQL, 1 portal", cc(pgFx)},
			{"client credentials, PostgreSQL, 2 portals", cc(&pg2)}}
		refreshGroup = []group{{"refresh grant, SQLite, 1 portal", fx.refreshOnce}, {"refresh grant, PostgreSQL, 1 portal", pgFx.refreshOnce},
			{"refresh grant, PostgreSQL, 2 portals", pg2.refreshOnce}}
	}
	pairs = append(pairs, pathPair{12, "client credentials, SQLite", "tokens/s", "in-memory token server, client credentials",
		cc(fx), memCC, "(reference for issue 12)", nil})

	type sample struct{ rate, p50, p99, refRate, refP99 float64 }
	type key struct {
		name  string
		conns int
	}
	samples := map[key][]sample{}
	errs := map[key]int{}
	firstErr := map[key]string{}
	measure := func(ctx context.Context, conns, requests int, d time.Duration, run func(context.Context, int) error) loadResult {
		l := load{Clients: conns, Duration: d, Requests: requests, Now: c.now, Do: run}
		return l.run(ctx)
	}
	selected := func(name string) bool { return f.only == "" || strings.Contains(name, f.only) }
	record := func(k key, r loadResult, s sample) {
		samples[k] = append(samples[k], s)
		errs[k] += r.Errors
		if firstErr[k] == "" {
			firstErr[k] = r.FirstError
		}
	}
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }
	// One round of a few requests each first: warms caches and connections,
	// and a broken path fails here rather than in the report.
	progress("warming up")
	for _, conns := range f.conns {
		for _, p := range pairs {
			if !selected(p.name) {
				continue
			}
			for _, run := range []func(context.Context, int) error{p.path, p.refPhase} {
				if r := measure(ctx, conns, 2*conns, f.duration, run); r.Errors > 0 {
					return fmt.Errorf("bench paths: %s at %d connections: %s", p.name, conns, r.FirstError)
				}
			}
		}
	}
	for _, g := range append(ccGroup, refreshGroup...) {
		if r := measure(ctx, workers, 2*workers, f.duration, g.run); r.Errors > 0 {
			return fmt.Errorf("bench paths: %s: %s", g.name, r.FirstError)
		}
	}
	for round := range f.rounds {
		for _, conns := range f.conns {
			for _, p := range pairs {
				if !selected(p.name) || ctx.Err() != nil {
					continue
				}
				progress("round %d/%d, %d connections: %s", round+1, f.rounds, conns, p.name)
				r := measure(ctx, conns, f.requests, f.duration, p.path)
				rr := measure(ctx, conns, f.requests, f.duration, p.refPhase)
				k := key{p.name, conns}
				record(k, r, sample{r.PerSecond, ms(r.P50), ms(r.P99), rr.PerSecond, ms(rr.P99)})
				errs[k] += rr.Errors
			}
		}
		for _, grp := range [][]group{ccGroup, refreshGroup} {
			for _, g := range grp {
				if !selected(g.name) || ctx.Err() != nil {
					continue
				}
				progress("round %d/%d, %d connections: %s", round+1, f.rounds, workers, g.name)
				r := measure(ctx, workers, f.requests, f.duration, g.run)
				record(key{g.name, workers}, r, sample{r.PerSecond, ms(r.P50), ms(r.P99), 0, 0})
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	median := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		s := slices.Clone(v)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	rowOf := func(k key, issue int, unit, refName, target string) pathRow {
		row := pathRow{Issue: issue, Path: k.name, Conns: k.conns, Unit: unit, Reference: refName, Target: target,
			Errors: errs[k], FirstError: firstErr[k]}
		var p50, p99, refRates, refP99 []float64
		for _, s := range samples[k] {
			row.Rates = append(row.Rates, round(s.rate, 0))
			p50, p99 = append(p50, s.p50), append(p99, s.p99)
			refRates, refP99 = append(refRates, s.refRate), append(refP99, s.refP99)
			if s.refRate > 0 {
				row.Ratios = append(row.Ratios, round(s.rate/s.refRate, 3))
			}
		}
		row.Rate, row.P50ms, row.P99ms = round(median(row.Rates), 0), median(p50), median(p99)
		row.RefRate, row.RefP99ms, row.Ratio = round(median(refRates), 0), median(refP99), median(row.Ratios)
		return row
	}
	rep := pathsReport{Rounds: f.rounds, Duration: f.duration.String(), Requests: f.requests, Started: start.UTC(),
		Load: loadAverage()}
	for _, conns := range f.conns {
		for _, p := range pairs {
			k := key{p.name, conns}
			if len(samples[k]) == 0 {
				continue
			}
			row := rowOf(k, p.issue, p.unit, p.ref, p.target)
			if p.met != nil {
				row.Met = row.Errors == 0 && p.met(row.Rate, row.Ratio, row.P99ms, conns)
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	// Issue 12: each group against its SQLite row of the same rounds.
	for gi, grp := range [][]group{ccGroup, refreshGroup} {
		if len(grp) == 0 {
			continue
		}
		base := key{grp[0].name, workers}
		for i, g := range grp {
			k := key{g.name, workers}
			if len(samples[k]) == 0 {
				continue
			}
			target := "(reference)"
			if i > 0 {
				target = ""
			}
			row := rowOf(k, 12, "tokens/s", "", target)
			if i > 0 {
				row.Reference = grp[0].name
				row.RefRate = round(median(rowOf(base, 12, "", "", "").Rates), 0)
				row.Ratios = nil
				for j, s := range samples[k] {
					if j < len(samples[base]) && samples[base][j].rate > 0 {
						row.Ratios = append(row.Ratios, round(s.rate/samples[base][j].rate, 3))
					}
				}
				row.Ratio = median(row.Ratios)
			}
			switch {
			case gi == 0 && i == 1:
				row.Target, row.Met = "≥ 0.8 of SQLite (within 20 %)", row.Errors == 0 && row.Ratio >= 0.8
			case gi == 1 && i == 1:
				row.Target, row.Met = "≥ 2,000/s", row.Errors == 0 && row.Rate >= 2000
			}
			rep.Rows = append(rep.Rows, row)
		}
	}
	rep.Took = c.now().Sub(start).Round(time.Second).String()
	table := rep.markdown()
	if f.out != "" {
		if err := os.WriteFile(f.out, []byte(table), 0o644); err != nil {
			return err
		}
	}
	return c.output(f.asJSON, rep, table)
}

// page GETs u with the first session and returns the body.
func (fx *pathsFixture) page(ctx context.Context, u string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := fx.sessions[0].Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

// introspection returns Portico's answer for the service token, which the
// in-memory reference then serves byte for byte.
func (fx *pathsFixture) introspection(ctx context.Context, base string) ([]byte, error) {
	var v map[string]any
	if err := fx.post(ctx, base+fx.introPath, fx.svc, fx.svcSecret, url.Values{"token": {fx.accessToken}}, &v); err != nil {
		return nil, err
	}
	if v["active"] != true {
		return nil, fmt.Errorf("introspection: the service token is not active: %v", v)
	}
	return json.Marshal(v)
}

// newRefresh makes a fresh refresh-token family for worker.
func (fx *pathsFixture) newRefresh(ctx context.Context, worker int) (string, error) {
	code, err := fx.code(ctx, worker)
	if err != nil {
		return "", err
	}
	verifier := base64.RawURLEncoding.EncodeToString([]byte("portico bench paths code verifier, 43+ chars"))
	var tok map[string]any
	if err := fx.post(ctx, fx.portals[0].base+fx.tokenPath, fx.web, fx.webSecret, url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {pathsRedirect}, "code_verifier": {verifier}}, &tok); err != nil {
		return "", err
	}
	rt, _ := tok["refresh_token"].(string)
	if rt == "" {
		return "", errors.New("code exchange: no refresh token")
	}
	return rt, nil
}

// createBenchDatabase makes a throwaway database on the server of serverURL
// and returns its URL and a function that drops it.
func createBenchDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	db, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	var raw [6]byte
	rand.Read(raw[:])
	name := "portico_bench_" + fmt.Sprintf("%x", raw)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("bench paths: create database on %s: %w", redactURL(serverURL), err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		db.ExecContext(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}, nil
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// loadAverage is /proc/loadavg's first three fields, or "" elsewhere.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func (r pathsReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`portico bench paths`: %s, %d round(s) of %s per phase", r.Started.Format("2006-01-02 15:04 UTC"), r.Rounds, r.Duration)
	if r.Requests > 0 {
		fmt.Fprintf(&b, " or %d requests", r.Requests)
	}
	fmt.Fprintf(&b, ", took %s; load average at the end %s. Rate, p99 and ratio are medians over rounds; the ratio is taken per round against the reference measured right after.\n\n", r.Took, r.Load)
	b.WriteString("| issue | path | conns | rate | p99 ms | reference | reference rate | ratio (per round) | target | met |\n")
	b.WriteString("|---|---|---:|---:|---:|---|---:|---:|---|---|\n")
	for _, row := range r.Rows {
		ratio, refRate := "", ""
		if row.Reference != "" {
			refRate = fmt.Sprintf("%.0f", row.RefRate)
			ratio = fmt.Sprintf("**%.2f** (%s)", row.Ratio, joinFloats(row.Ratios, 2))
		}
		met := ""
		if row.Target != "" && !strings.HasPrefix(row.Target, "(") {
			met = map[bool]string{true: "yes", false: "**no**"}[row.Met]
		}
		errNote := ""
		if row.Errors > 0 {
			errNote = fmt.Sprintf(" — %d errors: %s", row.Errors, row.FirstError)
		}
		fmt.Fprintf(&b, "| #%d | %s | %d | **%.0f** %s (%s) | %.1f | %s | %s | %s | %s | %s%s |\n", row.Issue, row.Path, row.Conns,
			row.Rate, row.Unit, joinFloats(row.Rates, 0), row.P99ms, row.Reference, refRate, ratio, row.Target, met, errNote)
	}
	return b.String()
}

func joinFloats(v []float64, places int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', places, 64)
	}
	return strings.Join(s, ", ")
}

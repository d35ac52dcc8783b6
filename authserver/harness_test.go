package authserver_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
	"portico/store/storetest"
)

// world is a running authorization server on 127.0.0.1 with a real SQLite
// store, one organization with a plan, a user, and a test login page that
// signs that user in by calling CompleteLogin.
type world struct {
	t      testing.TB
	ctx    context.Context
	st     *store.Store
	path   string
	sealer *store.Sealer
	srv    *authserver.Server
	reg    *authserver.Registrar
	ts     *httptest.Server
	issuer string
	org    store.Organization
	user   store.User
	now    time.Time
	mu     sync.Mutex
	// login decides what the test login page does with an auth request.
	login func(id string) authserver.LoginUser
	// noConsent stops the test login page from allowing third-party
	// clients on the user's behalf when asked for consent.
	noConsent bool
	// signedIn, when set, is the browser's portal session as /authorize
	// sees it (WithSignedIn); loginVisits counts the test login page's
	// requests.
	signedIn    authserver.SignedIn
	loginVisits int
}

// redirectBase is the (never contacted) host of test clients' redirect URIs.
const redirectBase = "http://127.0.0.1:9/cb"

func newWorld(t testing.TB, opts ...func(*authserver.Config)) *world {
	t.Helper()
	ctx := context.Background()
	path := storetest.DSN(t)
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, ctx: ctx, st: st, path: path, sealer: sealer, now: time.Now().UTC().Truncate(time.Second)}
	plan := store.Plan{Slug: "gold", Name: "Gold", Features: []store.Feature{
		{Name: "orders", Scopes: []string{"orders:read", "orders:write"}},
		{Name: "reports", Scopes: []string{"reports:read"}},
	}}
	if err := st.CreatePlan(ctx, &plan); err != nil {
		t.Fatal(err)
	}
	w.org = store.Organization{Slug: "acme", Name: "Acme", PlanID: plan.ID}
	if err := st.CreateOrganization(ctx, &w.org); err != nil {
		t.Fatal(err)
	}
	w.user = store.User{OrgID: w.org.ID, Email: "ann@acme.example", EmailVerified: true, Name: "Ann",
		Role: store.RoleDeveloper, IdPGroups: []string{"developers"}}
	if err := st.CreateUser(ctx, &w.user); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{"orders:read", "orders:write", "reports:read", "admin:all"} {
		if err := st.CreateScope(ctx, &store.Scope{Name: sc}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.issuer = "http://" + l.Addr().String()
	cfg := authserver.Config{
		Issuer: w.issuer, Store: st, Sealer: sealer, AllowInsecure: true, CacheRevalidate: -1,
		LoginURL: func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) },
		Now:      w.clock,
	}
	for _, o := range opts {
		o(&cfg)
	}
	w.srv, err = authserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.reg = w.srv.Registrar()
	w.login = func(string) authserver.LoginUser {
		return authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock(), AMR: []string{"pwd"}}
	}
	mux := http.NewServeMux()
	srv := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		f := w.signedIn
		w.mu.Unlock()
		if f != nil && r.URL.Path == w.srv.AuthorizationPath() {
			r = r.WithContext(authserver.WithSignedIn(r.Context(), f))
		}
		w.srv.ServeHTTP(rw, r)
	})
	for _, p := range w.srv.Paths() {
		mux.Handle(strings.TrimSuffix(p, "*"), srv)
	}
	mux.HandleFunc("/login", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.loginVisits++
		w.mu.Unlock()
		id := r.URL.Query().Get("auth_request")
		to, err := w.srv.CompleteLogin(r.Context(), id, w.login(id))
		if errors.Is(err, authserver.ErrConsentRequired) && !w.noConsent {
			// The user clicks Allow on the consent page.
			if err = w.srv.GrantConsent(r.Context(), id, w.login(id).UserID); err == nil {
				to, err = w.srv.CompleteLogin(r.Context(), id, w.login(id))
			}
		}
		if err != nil {
			http.Error(rw, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(rw, r, to, http.StatusSeeOther)
	})
	w.ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	w.ts.Start()
	t.Cleanup(w.ts.Close)
	return w
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

var cli = authserver.Actor{Label: "test"}

// client registers a client in the world's organization.
func (w *world) client(in authserver.RegisterInput) (store.Client, string) {
	w.t.Helper()
	c, secret, err := w.reg.Register(w.ctx, w.org.ID, cli, in)
	if err != nil {
		w.t.Fatalf("register %s: %v", in.Name, err)
	}
	return c, secret
}

func (w *world) service(scopes ...string) (store.Client, string) {
	return w.client(authserver.RegisterInput{Name: "svc", Type: store.ClientService, Scopes: scopes,
		GrantTypes: []string{"client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"}})
}

func (w *world) web(scopes ...string) (store.Client, string) {
	return w.client(authserver.RegisterInput{Name: "web", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		Scopes: scopes})
}

func (w *world) spa(scopes ...string) store.Client {
	c, _ := w.client(authserver.RegisterInput{Name: "spa", Type: store.ClientSPA, RedirectURIs: []string{redirectBase},
		Scopes: scopes})
	return c
}

// post sends a form to an endpoint and decodes the JSON answer.
func (w *world) post(path string, form url.Values, basicID, basicSecret string) (int, map[string]any) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	return w.do(req)
}

func (w *world) do(req *http.Request) (int, map[string]any) {
	w.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			m = map[string]any{"_raw": string(body)}
		}
	}
	return resp.StatusCode, m
}

// authorize runs the browser part of the code flow: GET /authorize with
// params, follow redirects through the test login page, and return the
// final redirect to the client's redirect URI (or the error page).
func (w *world) authorize(params url.Values) (*url.URL, int, string) {
	w.t.Helper()
	c := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectBase) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(w.issuer + "/authorize?" + params.Encode())
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			w.t.Fatal(err)
		}
		return u, resp.StatusCode, string(body)
	}
	return nil, resp.StatusCode, string(body)
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(h[:])
}

// codeFor runs /authorize for clientID and returns the code.
func (w *world) codeFor(clientID, scope, challenge string) string {
	w.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectBase},
		"scope": {scope}, "state": {"st"}, "nonce": {"n0"}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	u, status, body := w.authorize(q)
	if u == nil || u.Query().Get("code") == "" {
		w.t.Fatalf("authorize: status %d, redirect %v, body %s", status, u, body)
	}
	if u.Query().Get("state") != "st" || u.Query().Get("iss") != w.issuer {
		w.t.Fatalf("authorize redirect lacks state or iss: %v", u)
	}
	return u.Query().Get("code")
}

// claims decodes a JWT's header and payload without verifying it.
func claims(t *testing.T, jwt string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

func wantError(t *testing.T, status int, body map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", status, body, wantStatus, code)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

// Package demoapp is a small OpenID Connect relying party that Portico
// serves itself under /demo-app when started with --demo, so a launch in
// the demo ends on a real app: it signs the person in through Portico's own
// authorization server (code flow with PKCE, state and nonce) and shows the
// ID token's claims. It uses go-oidc for discovery and ID-token
// verification and golang.org/x/oauth2 for the code exchange, as a Go web
// app registered in Portico would.
package demoapp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Prefix is where the app lives on Portico's server.
const Prefix = "/demo-app"

// App is the relying party: a confidential web client of Portico.
type App struct {
	Issuer       string // Portico's issuer, where the app discovers it
	ClientID     string
	ClientSecret string
	// HTTPClient reaches the issuer (discovery, keys, token); nil: default.
	HTTPClient *http.Client
	Log        *slog.Logger
	Now        func() time.Time

	mu       sync.Mutex
	provider *gooidc.Provider
	pending  map[string]pendingLogin // by state
}

type pendingLogin struct {
	nonce, verifier string
	expires         time.Time
}

// pendingFor bounds how long a sign-in may take; pendingMax how many may
// be under way, so nobody fills the memory with abandoned ones.
const (
	pendingFor = 10 * time.Minute
	pendingMax = 1000
)

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// RedirectURI and LaunchURL are what Portico registers for the app.
func RedirectURI(issuer string) string { return strings.TrimRight(issuer, "/") + Prefix + "/callback" }
func LaunchURL(issuer string) string   { return strings.TrimRight(issuer, "/") + Prefix + "/login" }

// config discovers the issuer once (lazily: the server that serves this
// app is Portico itself, listening only after the app is built).
func (a *App) config(r *http.Request) (*gooidc.Provider, oauth2.Config, error) {
	a.mu.Lock()
	p := a.provider
	a.mu.Unlock()
	if p == nil {
		var err error
		// The provider keeps this context for later key refreshes.
		p, err = gooidc.NewProvider(gooidc.ClientContext(context.WithoutCancel(r.Context()), a.client()), a.Issuer)
		if err != nil {
			return nil, oauth2.Config{}, err
		}
		a.mu.Lock()
		a.provider = p
		a.mu.Unlock()
	}
	return p, oauth2.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: RedirectURI(a.Issuer), Scopes: []string{gooidc.ScopeOpenID, "profile", "email", "groups"}}, nil
}

func (a *App) client() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return http.DefaultClient
}

// ServeHTTP routes the app's three pages.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, Prefix) {
	case "", "/":
		a.page(w, http.StatusOK, view{})
	case "/login":
		a.login(w, r)
	case "/callback":
		a.callback(w, r)
	default:
		http.NotFound(w, r)
	}
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const stateCookie = "demo_app_state"

// login starts the code flow; Portico's launch arrives here with iss and
// login_hint (third-party initiated login), which are passed on.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	if iss := r.URL.Query().Get("iss"); iss != "" && strings.TrimRight(iss, "/") != strings.TrimRight(a.Issuer, "/") {
		a.page(w, http.StatusBadRequest, view{Error: "This app signs in only through " + a.Issuer + "."})
		return
	}
	_, cfg, err := a.config(r)
	if err != nil {
		a.fail(w, "discovery", err)
		return
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	now := a.now()
	a.mu.Lock()
	if a.pending == nil {
		a.pending = map[string]pendingLogin{}
	}
	for k, p := range a.pending {
		if now.After(p.expires) {
			delete(a.pending, k)
		}
	}
	if len(a.pending) >= pendingMax {
		a.mu.Unlock()
		a.page(w, http.StatusServiceUnavailable, view{Error: "Too many sign-ins under way; try again in a few minutes."})
		return
	}
	a.pending[state] = pendingLogin{nonce: nonce, verifier: verifier, expires: now.Add(pendingFor)}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: Prefix, HttpOnly: true,
		Secure: strings.HasPrefix(a.Issuer, "https://"), SameSite: http.SameSiteLaxMode, MaxAge: int(pendingFor.Seconds())})
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if hint := r.URL.Query().Get("login_hint"); hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	http.Redirect(w, r, cfg.AuthCodeURL(state, opts...), http.StatusFound)
}

// callback checks the state against this browser's cookie, exchanges the
// code with the PKCE verifier, verifies the ID token and its nonce, and
// shows the claims.
func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		a.page(w, http.StatusForbidden, view{Error: "Portico did not sign you in: " + e + " " + q.Get("error_description")})
		return
	}
	state := q.Get("state")
	c, err := r.Cookie(stateCookie)
	if err != nil || state == "" || c.Value != state {
		a.page(w, http.StatusBadRequest, view{Error: "This sign-in was started in another browser or has expired. Launch the app again."})
		return
	}
	a.mu.Lock()
	p, ok := a.pending[state]
	delete(a.pending, state)
	a.mu.Unlock()
	if !ok || a.now().After(p.expires) {
		a.page(w, http.StatusBadRequest, view{Error: "This sign-in has expired. Launch the app again."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: Prefix, MaxAge: -1})
	provider, cfg, err := a.config(r)
	if err != nil {
		a.fail(w, "discovery", err)
		return
	}
	ctx := gooidc.ClientContext(r.Context(), a.client())
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.fail(w, "code exchange", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: a.ClientID, Now: a.now}).Verify(ctx, raw)
	if err != nil || idt.Nonce != p.nonce {
		a.fail(w, "ID token verification", err)
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		a.fail(w, "reading the claims", err)
		return
	}
	pretty, _ := json.MarshalIndent(claims, "", "  ")
	a.page(w, http.StatusOK, view{Subject: idt.Subject, Claims: string(pretty)})
}

func (a *App) fail(w http.ResponseWriter, step string, err error) {
	if a.Log != nil {
		a.Log.Error("demo app sign-in failed", "step", step, "err", err)
	}
	a.page(w, http.StatusBadGateway, view{Error: "Signing in failed at the " + step + " step; the server log says why."})
}

type view struct {
	Subject, Claims, Error string
}

var tmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo app · Portico</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f5;padding:1rem;overflow:auto}</style>
</head><body>
<h1 id="demo-app">Demo app</h1>
<p>A small OpenID Connect relying party served by Portico itself, for trying launches in the demo.</p>
{{if .Error}}<p id="demo-error" role="alert">{{.Error}}</p>{{end}}
{{if .Claims}}<p>Signed in as <strong id="demo-subject">{{.Subject}}</strong>. The ID token's claims, verified:</p>
<pre id="claims">{{.Claims}}</pre>{{end}}
<p><a href="/demo-app/login" id="demo-sign-in">Sign in with Portico</a> · <a href="/">Back to Portico</a></p>
</body></html>`))

func (a *App) page(w http.ResponseWriter, status int, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	tmpl.Execute(w, v)
}

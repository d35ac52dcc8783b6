// Package gomiddleware protects a Go API with Portico's authorizer: every
// request is first put to Portico (the same question nginx's auth_request
// asks, with the same headers), which checks the access token and the API
// request policy attached to the path. A permitted request goes on with
// the caller's identity in its context; a refused one gets Portico's 401
// (with its WWW-Authenticate challenge) or 403 (with the decision's
// reference). When Portico cannot be reached the request is refused (503):
// the middleware fails closed.
//
// It imports nothing of Portico, so it can be copied into any module. The
// API's address must be in Portico's PORTICO_AUTHORIZER_TRUSTED, because it
// states the original request on the client's behalf.
package gomiddleware

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// Config says where Portico's authorizer is.
type Config struct {
	// AuthorizerURL is Portico's decision endpoint, e.g.
	// "https://portal.example.com/authz".
	AuthorizerURL string
	// API, if set, names the registered API (RFC 8707 resource) in
	// X-Portico-API, for policies attached to it.
	API string
	// Client makes the calls; nil means one with a 2-second timeout.
	Client *http.Client
}

// Identity is what Portico said about the caller of a permitted request.
type Identity struct {
	// Subject is the user's id, or the client_id of a machine.
	Subject string
	// Org is the caller's organization (slug).
	Org    string
	Scopes []string
	Groups []string
	// Decision is the decision log's reference.
	Decision string
}

type ctxKey struct{}

// FromContext returns the identity the middleware put in a permitted
// request's context.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}

// Middleware returns the middleware.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ask, err := http.NewRequestWithContext(r.Context(), http.MethodGet, cfg.AuthorizerURL, nil)
			if err != nil {
				http.Error(w, "authorizer misconfigured", http.StatusInternalServerError)
				return
			}
			if a := r.Header.Get("Authorization"); a != "" {
				ask.Header.Set("Authorization", a)
			}
			if d := r.Header.Get("DPoP"); d != "" {
				ask.Header.Set("DPoP", d)
			}
			ask.Header.Set("X-Original-URI", r.URL.RequestURI())
			ask.Header.Set("X-Original-Method", r.Method)
			ask.Header.Set("X-Forwarded-Host", r.Host)
			proto := "http"
			if r.TLS != nil {
				proto = "https"
			}
			ask.Header.Set("X-Forwarded-Proto", proto)
			if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
				ask.Header.Set("X-Forwarded-For", host)
			}
			if cfg.API != "" {
				ask.Header.Set("X-Portico-API", cfg.API)
			}
			resp, err := client.Do(ask)
			if err != nil {
				http.Error(w, "the authorizer is unavailable", http.StatusServiceUnavailable)
				return
			}
			resp.Body.Close()
			h := resp.Header
			switch resp.StatusCode {
			case http.StatusOK:
				id := Identity{Subject: h.Get("X-Portico-Subject"), Org: h.Get("X-Portico-Org"),
					Scopes: strings.Fields(h.Get("X-Portico-Scopes")), Decision: h.Get("X-Portico-Decision")}
				if g := h.Get("X-Portico-Groups"); g != "" {
					id.Groups = strings.Split(g, ",")
				}
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
			case http.StatusUnauthorized:
				if c := h.Get("WWW-Authenticate"); c != "" {
					w.Header().Set("WWW-Authenticate", c)
				}
				http.Error(w, "unauthorized", http.StatusUnauthorized)
			case http.StatusForbidden:
				if d := h.Get("X-Portico-Decision"); d != "" {
					w.Header().Set("X-Portico-Decision", d)
				}
				http.Error(w, "forbidden", http.StatusForbidden)
			default:
				http.Error(w, "the authorizer failed", http.StatusBadGateway)
			}
		})
	}
}

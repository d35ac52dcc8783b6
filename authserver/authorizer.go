package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"portico/store"
)

// The authorizer answers a gateway's question "may this API call go
// through?" before the gateway forwards it: nginx auth_request, Traefik
// ForwardAuth, Caddy forward_auth and Envoy's HTTP ext_authz. It checks the
// access token locally (our cached keys, iss, exp, aud, revocation through
// the cache introspection uses, and the standing of the client, the user
// and their organization), then asks the Gate at PointAPIRequest, where the
// "API request" policy attached to the call's path (or API) decides. It
// answers 200 with identity headers, 401 with an RFC 6750 challenge, or 403
// with the decision's reference.
//
// It lives in authserver because it needs the token keys and caches; it is
// still its own handler with its own paths, mounted by the portal outside
// session and CSRF middleware like the OAuth endpoints.

// AuthorizerConfig configures the authorizer; zero values take defaults.
type AuthorizerConfig struct {
	// Path is where nginx, Traefik and Caddy send their subrequests; Envoy's
	// ext_authz sends the original path below Path+"/envoy". Default
	// "/authz" below the issuer's path.
	Path string
	// Trusted are the peers whose forwarded facts (X-Forwarded-*,
	// X-Original-*, Envoy's relayed path) are believed: the gateways. A
	// request from any other peer is refused with 403, because without
	// those facts there is nothing to decide on. Empty means loopback only.
	Trusted []netip.Prefix
	// Headers names the identity headers of a 200; empty names take the
	// defaults (X-Portico-Subject, -Org, -Scopes, -Groups).
	Headers IdentityHeaders
	// Record, if set, logs the decisions the gate does not (a refused token,
	// a call no policy covers), so every answer is in the decision log. It
	// returns the decision's reference.
	Record func(ctx context.Context, req GateRequest, v Verdict) string
}

// IdentityHeaders are the response headers a permit carries to the
// gateway, which copies them onto the upstream request. The gateway must
// strip them from the client's own request (examples/gateways does).
type IdentityHeaders struct {
	Subject, Org, Scopes, Groups string
	// Decision carries the decision's reference on every answer.
	Decision string
}

func (h *IdentityHeaders) defaults() {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&h.Subject, "X-Portico-Subject")
	set(&h.Org, "X-Portico-Org")
	set(&h.Scopes, "X-Portico-Scopes")
	set(&h.Groups, "X-Portico-Groups")
	set(&h.Decision, "X-Portico-Decision")
}

// APIFacts is what a gateway reported about an API call, for the gate at
// PointAPIRequest.
type APIFacts struct {
	// Method is upper case; Path is decoded and cleaned; Host is lower case
	// without port; Proto is "http" or "https".
	Method, Path, Host, Proto string
	// API is the registered API's identifier (RFC 8707 resource) when the
	// gateway names one in X-Portico-API; empty otherwise.
	API    string
	Header http.Header
	Query  url.Values
	// The token's facts.
	IssuedAt          time.Time
	Scopes            []string
	Groups            []string
	Features          []string
	SenderConstrained bool
	// htu is the original URL as a DPoP proof names it (originalURL).
	htu string
}

// Authorizer is the decision endpoint's http.Handler. Build it with
// Server.Authorizer.
type Authorizer struct {
	s       *Server
	cfg     AuthorizerConfig
	envoy   string
	realm   string
	trusted []netip.Prefix
	log     *slog.Logger
}

// Authorizer returns the decision endpoint over this server's keys, caches
// and gate.
func (s *Server) Authorizer(cfg AuthorizerConfig) *Authorizer {
	if cfg.Path == "" {
		cfg.Path = s.prefix + "/authz"
	}
	cfg.Headers.defaults()
	trusted := cfg.Trusted
	if len(trusted) == 0 {
		trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	return &Authorizer{s: s, cfg: cfg, envoy: cfg.Path + "/envoy", realm: s.cfg.Issuer, trusted: trusted, log: s.log}
}

// Paths lists the routes to mount (echo patterns), outside session and
// CSRF middleware: gateways call them with the client's own headers.
func (a *Authorizer) Paths() []string { return []string{a.cfg.Path, a.envoy, a.envoy + "/*"} }

// answer is one decision, ready to write.
type answer struct {
	status    int
	challenge string // WWW-Authenticate on a 401
	nonce     string // DPoP-Nonce on a 401 use_dpop_nonce
	verdict   Verdict
	claims    *accessClaims
	org       string
}

// ServeHTTP implements http.Handler.
func (a *Authorizer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	peer := peerAddr(r)
	if !a.isTrusted(peer) {
		// Not a gateway: its forwarded facts are not believed, and without
		// them there is no API call to decide about.
		a.write(w, answer{status: http.StatusForbidden, verdict: Verdict{Reason: "the caller is not a trusted gateway"}})
		return
	}
	facts, ip, ok := a.facts(r, peer)
	if !ok {
		a.write(w, answer{status: http.StatusForbidden, verdict: Verdict{Reason: "the gateway did not say which request to authorize"}})
		return
	}
	a.write(w, a.decide(r, facts, ip))
}

// decide checks the token and asks the gate.
func (a *Authorizer) decide(r *http.Request, facts *APIFacts, ip netip.Addr) answer {
	ctx := r.Context()
	s := a.s
	greq := GateRequest{Point: PointAPIRequest, Now: s.now(), API: facts, Context: RequestContext{IP: ip}}
	refuse := func(status int, challenge, reason string) answer {
		v := Verdict{Action: Deny, Reason: reason}
		if a.cfg.Record != nil {
			v.DecisionID = a.cfg.Record(ctx, greq, v)
		}
		return answer{status: status, challenge: challenge, verdict: v}
	}
	scheme, token := authzToken(r.Header.Get("Authorization"))
	if token == "" {
		// RFC 6750 §3.1: no error code when the request had no credentials;
		// RFC 9449 §7.1: the DPoP scheme is offered beside Bearer.
		return refuse(http.StatusUnauthorized, `Bearer realm="`+a.realm+`", DPoP realm="`+a.realm+`", algs="`+algList()+`"`, "no access token")
	}
	invalid := func(desc string) answer {
		if scheme == "dpop" {
			return refuse(http.StatusUnauthorized, a.dpopChallenge(&dpopError{code: "invalid_token", description: desc}), desc)
		}
		return refuse(http.StatusUnauthorized, `Bearer realm="`+a.realm+`", error="invalid_token", error_description="`+desc+`"`, desc)
	}
	c, err := a.verify(ctx, token)
	if errors.Is(err, errNotOurs) {
		return invalid("the access token is invalid, expired or revoked")
	}
	if err != nil {
		a.log.ErrorContext(ctx, "authorizer: verify token", "err", err)
		return answer{status: http.StatusInternalServerError, verdict: Verdict{Reason: "the token could not be checked"}}
	}
	if !a.audienceOK(c, facts.API) {
		return invalid("the access token is not meant for this API")
	}
	bound, derr := a.senderConstrained(ctx, r, facts, scheme, token, c)
	if derr != nil {
		ans := refuse(http.StatusUnauthorized, a.dpopChallenge(derr), derr.description)
		if derr.code == "use_dpop_nonce" {
			ans.nonce = s.dpopNonce(s.now())
		}
		return ans
	}
	facts.IssuedAt, facts.Scopes, facts.Groups, facts.Features = unix(c.IssuedAt), c.scopes(), c.Groups, c.Features
	facts.SenderConstrained = bound
	greq.Scopes = facts.Scopes
	// How the subject signed in (auth_method conditions) and the trusted
	// issuer that vouched for it (issuer conditions), as the token says.
	greq.Context.AMR, greq.Context.Issuer = c.AMR, c.ExtIss
	if c.AuthTime != 0 {
		greq.Context.AuthTime = unix(c.AuthTime)
	}

	// A client known by its metadata document's URL (cimd.go) has no row:
	// its document is read (cached), and the user's organization binds it.
	e, err := s.clientOrDocument(ctx, c.ClientID)
	if err != nil {
		return invalid("the access token's client no longer exists")
	}
	if e.metadata != nil && !c.isUser() {
		return invalid("the access token's client no longer exists")
	}
	client := e.client
	greq.Client = &client
	if c.isUser() {
		u, err := s.cachedUser(ctx, c.Subject)
		if err != nil {
			return invalid("the access token's user no longer exists")
		}
		if e, err = s.forUser(ctx, e, u); err != nil || u.OrgID != e.org.ID {
			return invalid("the access token's user no longer belongs to its organization")
		}
		greq.User = &u
	}
	greq.Org, greq.Plan = e.org, e.plan
	// The token was issued for this organization; a token that says
	// otherwise was issued before a move, and is refused.
	if c.OrgID != "" && c.OrgID != e.org.ID {
		return invalid("the access token's organization has changed")
	}
	if reason := standing(greq.Now, e.org, &client, greq.User); reason != "" {
		return invalid("the access token is no longer in good standing")
	}
	v, err := s.gate.Check(ctx, greq)
	if err != nil {
		a.log.ErrorContext(ctx, "authorizer: gate", "err", err)
		status := http.StatusInternalServerError
		if _, ok := store.Unavailable(err); ok {
			status = http.StatusServiceUnavailable
		}
		return answer{status: status, verdict: Verdict{Reason: "the access decision failed", DecisionID: v.DecisionID}}
	}
	if v.DecisionID == "" && a.cfg.Record != nil {
		v.DecisionID = a.cfg.Record(ctx, greq, v)
		if v.DecisionID == "" && v.Action == Permit {
			// No call goes through whose decision the log lacks.
			return answer{status: http.StatusServiceUnavailable, verdict: Verdict{Reason: "the decision could not be recorded"}}
		}
	}
	if v.Action != Permit {
		// A Challenge cannot be met at an API: there is no one to step up.
		return answer{status: http.StatusForbidden, verdict: v}
	}
	return answer{status: http.StatusOK, verdict: v, claims: c, org: e.org.Slug}
}

// audienceOK: the token names this server (every token today) or, once
// APIs are registered and resource indicators (RFC 8707) narrow tokens,
// the API the call is for.
func (a *Authorizer) audienceOK(c *accessClaims, api string) bool {
	return slices.Contains(c.Audience, a.s.cfg.Issuer) || (api != "" && slices.Contains(c.Audience, api))
}

func (a *Authorizer) write(w http.ResponseWriter, ans answer) {
	h := w.Header()
	if ans.verdict.DecisionID != "" {
		h.Set(a.cfg.Headers.Decision, ans.verdict.DecisionID)
	}
	if ans.status == http.StatusOK {
		c := ans.claims
		h.Set(a.cfg.Headers.Subject, c.Subject)
		h.Set(a.cfg.Headers.Org, ans.org)
		h.Set(a.cfg.Headers.Scopes, c.Scope)
		h.Set(a.cfg.Headers.Groups, strings.Join(c.Groups, ","))
		w.WriteHeader(http.StatusOK)
		return
	}
	if ans.challenge != "" {
		h.Set("WWW-Authenticate", ans.challenge)
	}
	if ans.nonce != "" {
		h.Set("DPoP-Nonce", ans.nonce)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(ans.status)
	code := "forbidden"
	switch ans.status {
	case http.StatusUnauthorized:
		code = "invalid_token"
	case http.StatusInternalServerError:
		code = "server_error"
	}
	// The reason stays in the decision log: a policy's rules are not the
	// caller's business (Envoy passes this body to the client). The
	// reference lets the portal's admins find it.
	_ = json.NewEncoder(w).Encode(struct {
		Error    string `json:"error"`
		Decision string `json:"decision,omitempty"`
	}{code, ans.verdict.DecisionID})
}

// authzToken splits an Authorization header into its scheme (lower case) and
// token: "Bearer" (RFC 6750) or "DPoP" (RFC 9449).
func authzToken(h string) (scheme, token string) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok {
		return "", ""
	}
	scheme = strings.ToLower(scheme)
	if scheme != "bearer" && scheme != "dpop" {
		return "", ""
	}
	return scheme, strings.TrimSpace(token)
}

func (a *Authorizer) isTrusted(ip netip.Addr) bool {
	for _, p := range a.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// facts reads the original request from what the gateway forwarded, and
// the client's address: the rightmost X-Forwarded-For hop that is not a
// trusted proxy (else the peer).
func (a *Authorizer) facts(r *http.Request, peer netip.Addr) (*APIFacts, netip.Addr, bool) {
	hd := r.Header
	f := &APIFacts{Header: hd}
	var uri string
	if p := r.URL.Path; p == a.envoy || strings.HasPrefix(p, a.envoy+"/") {
		// Envoy's HTTP ext_authz: the original method, path (after the
		// configured path_prefix) and headers, Host included.
		f.Method, uri, f.Host = r.Method, strings.TrimPrefix(r.URL.RequestURI(), a.envoy), r.Host
		if uri == "" || uri[0] == '?' {
			uri = "/" + uri
		}
	} else {
		// nginx sends X-Original-*, Traefik and Caddy X-Forwarded-*.
		f.Method = first(hd.Get("X-Forwarded-Method"), hd.Get("X-Original-Method"))
		uri = first(hd.Get("X-Forwarded-Uri"), hd.Get("X-Original-Uri"))
		f.Host = first(hd.Get("X-Forwarded-Host"), r.Host)
	}
	f.Proto = strings.ToLower(hd.Get("X-Forwarded-Proto"))
	f.API = hd.Get("X-Portico-API")
	if f.Method == "" || uri == "" {
		return nil, netip.Addr{}, false
	}
	f.Method = strings.ToUpper(f.Method)
	u, err := url.ParseRequestURI(uri)
	if err != nil || !strings.HasPrefix(u.Path, "/") {
		return nil, netip.Addr{}, false
	}
	// An encoded slash would make the upstream see other segments than the
	// policy: refuse it rather than guess.
	if strings.Contains(strings.ToLower(u.RawPath), "%2f") {
		return nil, netip.Addr{}, false
	}
	f.Path = path.Clean(u.Path)
	if u.RawQuery != "" {
		f.Query = u.Query()
	}
	f.htu = originalURL(f.Proto, f.Host, u.EscapedPath())
	if h, _, err := net.SplitHostPort(f.Host); err == nil {
		f.Host = h
	}
	f.Host = strings.ToLower(f.Host)
	return f, a.clientIP(hd.Values("X-Forwarded-For"), peer), true
}

func (a *Authorizer) clientIP(xff []string, peer netip.Addr) netip.Addr {
	ip := peer
	for i := len(xff) - 1; i >= 0; i-- {
		hops := strings.Split(xff[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			if !a.isTrusted(ip) {
				return ip
			}
			h, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return ip
			}
			ip = h.Unmap()
		}
	}
	return ip
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

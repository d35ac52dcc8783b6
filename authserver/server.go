package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// Config is what the server needs. Issuer, Store, Sealer and LoginURL are
// required; the rest have defaults.
type Config struct {
	// Issuer is PORTICO_ISSUER, the portal's public base URL; every endpoint
	// lives under it and discovery is at Issuer+"/.well-known/openid-configuration".
	Issuer string
	Store  Store
	// Sealer encrypts signing keys and the secret-hashing key at rest.
	Sealer *store.Sealer
	// Gate is consulted before anything is issued. Nil means DefaultGate.
	Gate Gate
	// LoginURL is where /authorize sends the browser to sign in, e.g.
	// "/login?auth_request="+id. After sign-in the portal calls CompleteLogin.
	LoginURL func(authRequestID string) string
	// LogoutURL, if set, is where RP-initiated logout sends the browser so the
	// portal can end its session; ticket (may be empty) names where to go
	// afterwards, and only LogoutDestination can read it.
	LogoutURL func(ticket string) string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// AllowInsecure permits an http issuer (development and tests only).
	AllowInsecure bool
	Lifetimes     Lifetimes
	// CacheRevalidate is how often, at most, the client and key caches ask the
	// store whether anything changed. Zero or negative means on every request:
	// store.DataVersion is an atomic load, and other replicas' and the CLI's
	// changes reach it within milliseconds.
	CacheRevalidate time.Duration
	// HTTPClient fetches clients' jwks_uri; nil means a client with a 5s
	// timeout on netguard's dialer, which refuses loopback, private,
	// link-local and other non-public addresses outside UpstreamAllow
	// (SSRF). A client given here is used as is.
	HTTPClient *http.Client
	// ClientMetadata turns on clients identified by a Client ID Metadata
	// Document (an https URL as client_id).
	ClientMetadata ClientMetadataConfig
	// UpstreamAllow is the operator's PORTICO_UPSTREAM_ALLOW: non-public
	// ranges the default client may reach anyway.
	UpstreamAllow []netip.Prefix
	// AllowPrivateJWKS lets the default jwks_uri client reach every
	// address. Tests only: they serve keys on 127.0.0.1.
	AllowPrivateJWKS bool
	// RequirePAR makes every client push its authorization requests
	// (PORTICO_REQUIRE_PAR, RFC 9126 §6); a client can require it alone.
	RequirePAR bool
	// RequireDPoP makes every token request carry a DPoP proof
	// (PORTICO_REQUIRE_DPOP); a client can require it alone.
	RequireDPoP bool
	// RequireDPoPFor, if set, is asked at every token request whether what
	// is requested (an API named by the resource parameter, say) accepts
	// only sender-constrained tokens.
	RequireDPoPFor func(ctx context.Context, clientID string, form url.Values) bool
	// DPoPNonce makes DPoP proofs carry a server nonce (RFC 9449 §8).
	DPoPNonce bool
	// Metrics counts issued tokens; nil counts nothing.
	Metrics TokenMetrics
	// Throttle bounds failed client authentication; zero values take the
	// defaults. The source address is the peer's unless the portal passes
	// another with WithClientAddr.
	Throttle Throttle
}

// TokenMetrics hears of every access token issued: its grant type and the
// client's type (metrics.Metrics implements it).
type TokenMetrics interface {
	TokenIssued(grant, clientType string)
}

// LockoutMetrics is what Config.Metrics may also do (found by type
// assertion; metrics.Metrics does): hear of every failed client
// authentication that blocked a client or an address, and of every
// request such a block refused, as factor "client_auth".
type LockoutMetrics interface {
	Lockout(factor string)
}

// clientAuthLockout counts one client-authentication lockout.
func (s *Server) clientAuthLockout() {
	if m, ok := s.cfg.Metrics.(LockoutMetrics); ok {
		m.Lockout("client_auth")
	}
}

// Lifetimes of what the server issues; zero values take the defaults.
type Lifetimes struct {
	AccessToken  time.Duration // default 10m
	IDToken      time.Duration // default 10m
	Code         time.Duration // default 60s
	AuthRequest  time.Duration // default 10m: time to sign in
	RefreshToken time.Duration // default 30 days: absolute lifetime of a family
}

func (l *Lifetimes) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&l.AccessToken, 10*time.Minute)
	set(&l.IDToken, 10*time.Minute)
	set(&l.Code, 60*time.Second)
	set(&l.AuthRequest, 10*time.Minute)
	set(&l.RefreshToken, 30*24*time.Hour)
}

// maxSigned is how long a signed token can live: a retired key stays in the
// JWKS this long.
func (l Lifetimes) maxSigned() time.Duration { return max(l.AccessToken, l.IDToken) }

// Server is the authorization server. Create it with New.
type Server struct {
	// verified caches signature checks of access tokens for the authorizer,
	// introspection and userinfo (authorizer_cache.go).
	verified verifiedTokens
	cfg      Config
	issuer   *url.URL
	prefix   string // the issuer's path, "" at the root
	now      func() time.Time
	log      *slog.Logger
	st       Store
	gate     Gate
	hash     *hasher
	keys     *keyring
	clients  *clientCache
	// users caches the users the authorizer sees (authorizer_users.go).
	users    userCache
	fresh    *freshness
	revoked  revokedJTIs
	jwks     *remoteJWKS
	throttle *authThrottle
	apiCache apiCache
	metadata *metadataCache
	op       http.Handler
	reg      *Registrar
	paths    map[string]string // path -> endpoint name
	endpoint endpoints
	jtis     *jtiBatcher
	// basicChallenge is the WWW-Authenticate of a 401 from the token
	// endpoints, made once.
	basicChallenge string
	// withCORS is serve behind the CORS handler, for corsPath paths.
	withCORS http.Handler
	// ist holds trusted token issuers; nil when the Store cannot.
	ist        issuerStore
	issuerKeys *issuerKeyCache
}

type endpoints struct {
	authorize, token, introspect, revoke, userinfo, endSession, jwks, register, discovery, par string
	// metadata are the RFC 8414 paths: /.well-known/oauth-authorization-server
	// with the issuer's path appended (§3.1), and, for an issuer with a path,
	// also below it, where clients that treat it like OIDC discovery look.
	metadata []string
}

// New builds the server: it loads (or on first run generates) the signing
// keys and the secret-hashing key.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Sealer == nil || cfg.LoginURL == nil {
		return nil, errors.New("authserver: Store, Sealer and LoginURL are required")
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		return nil, fmt.Errorf("authserver: issuer %q is not an absolute URL without query or fragment", cfg.Issuer)
	}
	if iss.Scheme != "https" && !(cfg.AllowInsecure && iss.Scheme == "http") {
		return nil, fmt.Errorf("authserver: issuer %q must be https", cfg.Issuer)
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	cfg.Lifetimes.defaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Gate == nil {
		cfg.Gate = DefaultGate{}
	}
	if cfg.HTTPClient == nil {
		allow := cfg.UpstreamAllow
		if cfg.AllowPrivateJWKS {
			allow = allowEverything
		}
		cfg.HTTPClient = newJWKSClient(allow, cfg.AllowInsecure)
	}
	s := &Server{cfg: cfg, issuer: iss, prefix: strings.TrimSuffix(iss.Path, "/"), now: cfg.Now,
		log: cfg.Logger, st: cfg.Store, gate: cfg.Gate, basicChallenge: `Basic realm="` + cfg.Issuer + `"`}
	ctx := context.Background()
	if s.hash, err = loadHasher(ctx, cfg.Store, cfg.Sealer); err != nil {
		return nil, err
	}
	s.fresh = newFreshness(cfg.Store, cfg.CacheRevalidate)
	s.keys = &keyring{st: cfg.Store, sealer: cfg.Sealer, now: cfg.Now, keep: cfg.Lifetimes.maxSigned()}
	if _, err := s.keys.current(ctx, s.fresh); err != nil {
		return nil, err
	}
	s.clients = &clientCache{st: cfg.Store, m: map[string]*clientEntry{}}
	mc := cfg.ClientMetadata.HTTPClient
	if mc == nil {
		mc = newMetadataClient(cfg.UpstreamAllow, cfg.ClientMetadata.RootCAs)
	}
	s.metadata = &metadataCache{client: mc, now: cfg.Now, m: map[string]metadataEntry{}}
	s.jwks = &remoteJWKS{client: cfg.HTTPClient, now: cfg.Now, m: map[string]*remoteKeys{}}
	s.ist, _ = cfg.Store.(issuerStore)
	s.issuerKeys = &issuerKeyCache{client: cfg.HTTPClient, now: cfg.Now, allowInsecure: cfg.AllowInsecure,
		m: map[string]*issuerKeys{}}
	cfg.Throttle.defaults()
	s.throttle = &authThrottle{cfg: cfg.Throttle, st: cfg.Store, fresh: s.fresh, now: cfg.Now}
	s.jtis = &jtiBatcher{st: cfg.Store, now: cfg.Now}
	s.reg = &Registrar{st: cfg.Store, hash: s.hash, gate: cfg.Gate, now: cfg.Now}
	s.endpoint = endpoints{
		authorize: s.prefix + "/authorize", token: s.prefix + "/token",
		introspect: s.prefix + "/introspect", revoke: s.prefix + "/revoke",
		userinfo: s.prefix + "/userinfo", endSession: s.prefix + "/end_session",
		jwks: s.prefix + "/jwks", register: s.prefix + "/register",
		discovery: s.prefix + "/.well-known/openid-configuration", par: s.prefix + "/par",
		metadata: []string{"/.well-known/oauth-authorization-server" + s.prefix},
	}
	if s.prefix != "" {
		s.endpoint.metadata = append(s.endpoint.metadata, s.prefix+"/.well-known/oauth-authorization-server")
	}
	e := s.endpoint
	s.paths = map[string]string{e.authorize: "authorize", e.token: "token", e.introspect: "introspect",
		e.revoke: "revoke", e.userinfo: "userinfo", e.endSession: "end_session", e.jwks: "jwks",
		e.register: "register", e.discovery: "discovery", e.par: "par"}
	for _, p := range e.metadata {
		s.paths[p] = "metadata"
	}
	corsOpts := corsOptions()
	s.withCORS = cors.New(corsOpts).Handler(http.HandlerFunc(s.serve))
	s.op = op.RegisterServer(&opServer{s: s}, op.Endpoints{
		Authorization: op.NewEndpoint(e.authorize),
		Token:         op.NewEndpoint(e.token),
		Userinfo:      op.NewEndpoint(e.userinfo),
		Revocation:    op.NewEndpoint(e.revoke),
		EndSession:    op.NewEndpoint(e.endSession),
		JwksURI:       op.NewEndpoint(e.jwks),
	}, op.WithServerCORSOptions(&corsOpts))
	return s, nil
}

// AuthorizationPath is the path of the authorization endpoint, where the
// portal attaches WithSignedIn.
func (s *Server) AuthorizationPath() string { return s.endpoint.authorize }

// Paths lists every path the server answers, for the portal to mount into
// echo and exempt from CSRF checks: the token, introspection, revocation and
// registration endpoints take cross-site POSTs by design. Registration and
// the APIs' protected resource metadata answer below their paths (Paths
// ends those with "/*").
func (s *Server) Paths() []string {
	e := s.endpoint
	return append([]string{e.discovery, e.jwks, e.authorize, e.token, e.introspect, e.revoke, e.userinfo,
		e.endSession, e.register, e.register + "/*", e.par, s.resourceMetadataBase() + "*"}, e.metadata...)
}

// Registrar returns the client-registration operations bound to this
// server's store, hashing key and gate.
func (s *Server) Registrar() *Registrar { return s.reg }

// ServeHTTP answers the OAuth and OpenID Connect endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.corsPath(r.URL.Path) {
		s.withCORS.ServeHTTP(w, r)
		return
	}
	s.serve(w, r)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	metadata := s.paths[p] == "metadata"
	if strings.HasPrefix(p, s.resourceMetadataBase()) {
		s.serveResourceMetadata(w, r)
		return
	}
	if p != s.endpoint.discovery && p != s.endpoint.jwks && !metadata {
		// Tokens, codes and client metadata must not be cached (RFC 6749 §5.1).
		h := w.Header()
		h["Cache-Control"], h["Pragma"] = noStore[0:1:1], noStore[1:2:2]
	}
	switch {
	case p == s.endpoint.discovery || metadata:
		s.serveDiscovery(w, r)
		return
	case p == s.endpoint.register || strings.HasPrefix(p, s.endpoint.register+"/"):
		s.serveRegistration(w, r)
		return
	case p == s.endpoint.token || p == s.endpoint.introspect || p == s.endpoint.revoke || p == s.endpoint.par:
		if !s.tokenRequestAcceptable(w, r) {
			return
		}
		src := clientAddr(r)
		if a, _ := r.Context().Value(clientAddrKey{}).(netip.Addr); a != src {
			r = r.WithContext(WithClientAddr(r.Context(), src))
		}
		// Basic credentials are decoded once, for the throttle's claimed
		// client id here and for introspection's authentication below.
		basic := basicCredentials(r)
		var form introspectionForm
		var ferr error
		claimed := ""
		if p == s.endpoint.introspect {
			if ferr = readIntrospectionForm(r, &form); ferr == nil {
				claimed = claimedFrom(basic, form.first[formClientID], form.first[formClientAssertion])
			}
		} else if ferr = r.ParseForm(); ferr == nil {
			claimed = claimedClientID(r, basic)
		}
		if ferr != nil {
			// A body the form parser refuses is refused whole: a second
			// ParseForm (op's) would return nil and read what it could,
			// past the throttle's check below.
			op.WriteError(w, r, oidc.ErrInvalidRequest().WithDescription("error parsing form").WithParent(ferr), nil)
			return
		}
		wait, err := s.throttle.retryAfter(r.Context(), claimed, src)
		if err != nil {
			s.log.ErrorContext(r.Context(), "client authentication throttle", "err", err)
		}
		if wait > 0 {
			s.clientAuthLockout()
			throttled(w, wait)
			return
		}
		// RFC 6749 §5.2 asks for a challenge after Basic authentication, and
		// RFC 9110 §15.5.2 for one on every 401: whatever the method tried
		// (client_secret_post, private_key_jwt), the challenge names the one
		// HTTP authentication scheme these endpoints accept.
		if p == s.endpoint.introspect {
			// Only an error answer can be a 401: serveIntrospection adds
			// the challenge there, sparing the wrapper on every answer.
			s.serveIntrospection(w, r, basic, &form)
			return
		}
		w = &challengeWriter{ResponseWriter: w, challenge: s.basicChallenge}
		if p == s.endpoint.token || p == s.endpoint.par {
			proof, derr := s.verifyDPoP(r.Context(), r, s.url(p), "")
			if derr != nil {
				s.writeDPoPError(w, derr)
				return
			}
			if proof != nil {
				r = r.WithContext(withDPoP(r.Context(), proof))
				if s.cfg.DPoPNonce {
					w.Header().Set("DPoP-Nonce", s.dpopNonce(s.now()))
				}
			}
		}
		switch p {
		case s.endpoint.par:
			s.servePAR(w, r)
			return
		}
	case p == s.endpoint.authorize:
		w = &issWriter{ResponseWriter: w, issuer: s.cfg.Issuer}
		var ok bool
		if r, ok = s.resolvePushed(w, r); !ok {
			return
		}
	case p == s.endpoint.userinfo:
		challenge := `Bearer error="invalid_token"`
		if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "DPoP") {
			challenge = `DPoP error="invalid_token", algs="` + algList() + `"`
		}
		w = &challengeWriter{ResponseWriter: w, challenge: challenge}
		var ok bool
		if r, ok = s.serveDPoPResource(w, r); !ok {
			return
		}
	case s.paths[p] == "":
		http.NotFound(w, r)
		return
	}
	s.op.ServeHTTP(w, r)
}

// tokenRequestAcceptable refuses what op's router would let through but the
// RFCs forbid: token, introspection and revocation requests are POSTs with
// a form body, and credentials never travel in the URL.
func (s *Server) tokenRequestAcceptable(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return false
	}
	if r.URL.RawQuery != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "parameters belong in the request body, not the URL")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	return true
}

// noStore holds the values of Cache-Control and Pragma on every answer
// that must not be cached, shared by all responses: net/http never writes
// into a header's values, and the capacity of each slice is its length, so
// an Add appends to a copy.
var noStore = [2]string{"no-store", "no-cache"}

// jsonContentType is the Content-Type of JSON answers, shared likewise.
var jsonContentType = []string{"application/json"}

// challengeWriter adds WWW-Authenticate to a 401 response.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (c *challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized && c.Header().Get("WWW-Authenticate") == "" {
		c.Header().Set("WWW-Authenticate", c.challenge)
	}
	c.ResponseWriter.WriteHeader(code)
}

// url returns the absolute URL of an endpoint path.
func (s *Server) url(path string) string {
	return s.issuer.Scheme + "://" + s.issuer.Host + path
}

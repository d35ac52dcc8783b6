package handlers

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"portico/authserver"
	"portico/federation"
	"portico/handlers/adminapi"
	"portico/partners"
	"portico/policyeditor"
	"portico/scim"
	"portico/static"
	"portico/store"
	"portico/webhooks"
)

// Config is everything the web layer needs. cmd/portico fills it in; tests
// build it the same way.
type Config struct {
	// DemoApp, when set (the --demo mode), is a sample relying party served
	// under /demo-app with its own cookie, outside the portal's session.
	DemoApp http.Handler
	Store   *store.Store
	// Issuer is the portal's public base URL; https turns on Secure cookies
	// and HSTS.
	Issuer string
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	Now            func() time.Time
	// PolicyReplayWait is how long a page waits for an impact preview
	// before showing its progress (0: 2 s); tests shorten it.
	PolicyReplayWait time.Duration
	// OAuth is the embedded authorization server and the paths it serves;
	// nil until it is wired.
	OAuth OAuthServer
	// Authorizer is the gateways' decision endpoint (authserver.Authorizer),
	// mounted like OAuth outside session and CSRF middleware; nil: none.
	Authorizer OAuthServer
	// SignIn is what the sign-in flow and identity connections need.
	SignIn SignInConfig
	// Policies decides app launches; nil means no policy applies (tests of
	// unrelated features). Locator finds countries; nil means none are known.
	Policies *policyeditor.Engine
	Locator  policyeditor.Locator
	// Mailer sends invitation links; nil shows them to the inviter to pass
	// on.
	Mailer partners.Mailer
	// UpstreamAllow is the operator's PORTICO_UPSTREAM_ALLOW: non-public
	// ranges that requests to identity providers may reach anyway (a test
	// IdP on loopback, a company IdP on a private network). Used when
	// SignIn.HTTPClient is nil.
	UpstreamAllow []netip.Prefix
	// Issuers manages organizations' trusted token issuers; nil leaves the
	// page out.
	Issuers IssuerRegistry
	// SessionMaxAge is the absolute lifetime of a portal session; 0 means
	// DefaultSessionMaxAge.
	SessionMaxAge time.Duration
	// SCIM is the directory-sync service provider; nil turns it off.
	SCIM SCIMProvider
	// Metrics counts requests, sign-ins and lockouts; nil counts nothing.
	// MetricsHandler, when set, is served at /metrics (outside sessions).
	Metrics        Metrics
	MetricsHandler http.Handler
	// Webhooks manages outgoing webhook subscriptions and inbound hooks;
	// nil leaves the pages and the inbound hook out.
	Webhooks *webhooks.Service
}

// Metrics is what the web layer reports (metrics.Metrics implements it).
type Metrics interface {
	Request(route, method string, code int, d time.Duration)
	SignIn(method, result string)
	Lockout(factor string)
}

type noMetrics struct{}

func (noMetrics) Request(string, string, int, time.Duration) {}
func (noMetrics) SignIn(string, string)                      {}
func (noMetrics) Lockout(string)                             {}

// requestMetrics counts each request by its route template (never the raw
// path: the label set stays bounded) once the error handler has set the
// final status.
func requestMetrics(m Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route := c.Path()
			if c.Response().Status == http.StatusNotFound && (route == "" || strings.HasSuffix(route, "*")) {
				route = "" // every unknown path would otherwise share a prefix route's label
			}
			m.Request(route, c.Request().Method, c.Response().Status, time.Since(start))
			if span := trace.SpanFromContext(c.Request().Context()); span.IsRecording() {
				name := route
				if name == "" {
					name = "unmatched"
				}
				span.SetName(c.Request().Method + " " + name)
				span.SetAttributes(attribute.String("http.route", name))
			}
			return nil
		}
	}
}

// OAuthServer is the authorization server as the web layer sees it: a plain
// handler and the route patterns it owns (echo patterns: a trailing "/*"
// owns everything below). Those routes are mounted outside the portal's
// session and CSRF middleware: they are protocol endpoints that machines
// call cross-site with their own credentials.
type OAuthServer interface {
	http.Handler
	Paths() []string
}

// New builds the portal's echo instance: middleware, error handler and every
// feature's routes.
func New(ctx context.Context, cfg Config) (*echo.Echo, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	secure := strings.HasPrefix(cfg.Issuer, "https://")
	sess, err := NewSessions(ctx, cfg.Store, cfg.SignIn.Sealer, secure, cfg.SessionMaxAge, cfg.Now)
	if err != nil {
		return nil, err
	}
	csrfMAC, err := cfg.Store.SealedSetting(ctx, cfg.SignIn.Sealer, "csrf.key", 32)
	if err != nil {
		return nil, err
	}
	pages := &Pages{}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(cfg.Logger, pages)
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)

	skipCSRF := func(c echo.Context) bool {
		p := c.Request().URL.Path
		return p == "/healthz" || p == "/metrics" || p == SAMLACSPath // SAML responses arrive by cross-site POST
	}

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: requestID}))
	e.Use(recoverer(cfg.Logger))
	e.Use(securityHeaders(secure))
	e.Use(middleware.BodyLimit("2M"))
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	e.Use(requestMetrics(cfg.Metrics))
	e.Use(requestLog(cfg.Logger))
	if cfg.MetricsHandler != nil {
		e.GET("/metrics", echo.WrapHandler(cfg.MetricsHandler))
	}

	// The authorization server's routes go on e itself; the portal's on a
	// group that adds the session and CSRF middleware. Which applies is
	// decided by the route a request matches, so every method and every
	// path below a pattern (RFC 7592's PUT and DELETE /register/{id}) is
	// exempt, and nothing else is.
	if cfg.OAuth != nil {
		h := echo.WrapHandler(cfg.OAuth)
		// A person already signed in gets a code at /authorize itself
		// (single sign-on without the login page's hop), when the portal
		// completes authorization requests.
		var authorizePath string
		if ap, ok := cfg.OAuth.(interface{ AuthorizationPath() string }); ok && cfg.SignIn.Completer != nil {
			authorizePath = ap.AuthorizationPath()
		}
		oauth := func(c echo.Context) error {
			// The client's address as the trusted proxies report it, for the
			// throttle of failed client authentication.
			ctx := c.Request().Context()
			if a, err := netip.ParseAddr(c.RealIP()); err == nil {
				ctx = authserver.WithClientAddr(ctx, a)
			}
			if authorizePath != "" && c.Request().URL.Path == authorizePath {
				ctx = authserver.WithSignedIn(ctx, signedInAtAuthorize(c, sess, cfg.Store))
			}
			if ctx != c.Request().Context() {
				c.SetRequest(c.Request().WithContext(ctx))
			}
			return h(c)
		}
		for _, p := range cfg.OAuth.Paths() {
			e.Any(p, oauth)
		}
	}
	if cfg.SCIM != nil {
		// Outside the session and CSRF middleware too: directories
		// authenticate each call with the organization's bearer token.
		h := echo.WrapHandler(cfg.SCIM)
		scimRoute := func(c echo.Context) error {
			if a, err := netip.ParseAddr(c.RealIP()); err == nil {
				c.SetRequest(c.Request().WithContext(scim.WithClientAddr(c.Request().Context(), a)))
			}
			return h(c)
		}
		e.Any(SCIMPrefix+"*", scimRoute)
	}
	if cfg.Authorizer != nil {
		// The authorizer reads the peer itself: only the gateways it trusts
		// may tell it who the client is.
		h := echo.WrapHandler(cfg.Authorizer)
		for _, p := range cfg.Authorizer.Paths() {
			e.Any(p, h)
		}
	}
	// The admin API authenticates every call with an Authorization
	// header and never reads cookies: outside the session and CSRF
	// middleware.
	adminAPI(cfg).Mount(e)
	if cfg.DemoApp != nil {
		e.GET("/demo-app", echo.WrapHandler(cfg.DemoApp))
		e.GET("/demo-app/*", echo.WrapHandler(cfg.DemoApp))
	}
	e.StaticFS("/static", echo.MustSubFS(static.FS, ""))
	root := e.Group("", sess.middleware, newCSRF(secure, csrfMAC, cfg.Issuer, skipCSRF).middleware, passwordChangeGate(cfg.Store), orgScope(cfg.Store))
	launch := &Launch{Store: cfg.Store, Pages: pages, Policies: cfg.Policies, Locator: cfg.Locator,
		Sealer: cfg.SignIn.Sealer, Issuer: cfg.Issuer, Now: cfg.Now, Log: cfg.Logger, Sleep: cfg.SignIn.Sleep,
		Mailer: securityMailer(cfg), Sessions: sess, Metrics: cfg.Metrics}
	if rp, err := newRelyingParty(cfg.Issuer); err == nil {
		launch.RP = rp
	}
	if cfg.Policies != nil {
		launch.Preview = policyeditor.NewEngine(cfg.Store, nil) // badges are previews, not decisions
	}
	features := []interface{ Mount(*echo.Group) }{
		&Home{Store: cfg.Store, Pages: pages, Launch: launch, Now: cfg.Now},
		launch,
		&Partners{Store: cfg.Store, Pages: pages, Now: cfg.Now, Issuer: cfg.Issuer, Log: cfg.Logger, OAuth: cfg.OAuth, Mailer: cfg.Mailer,
			Sealer: cfg.SignIn.Sealer},
		&Groups{Store: cfg.Store, Partners: &partners.Service{Store: cfg.Store, Now: cfg.Now}, Pages: pages},
		&Account{Store: cfg.Store, Pages: pages, Now: cfg.Now, Sessions: sess, Sleep: cfg.SignIn.Sleep},
		&OrgSecurity{Partners: &partners.Service{Store: cfg.Store, Now: cfg.Now}, Pages: pages},
		&Policies{Store: cfg.Store, Pages: pages, Now: cfg.Now, ReplayWait: cfg.PolicyReplayWait},
		&AppPolicy{Store: cfg.Store, Service: &policyeditor.Service{Store: cfg.Store, Now: cfg.Now}},
		&Decisions{Store: cfg.Store, Pages: pages, Now: cfg.Now},
		&APITokens{Store: cfg.Store, Partners: &partners.Service{Store: cfg.Store, Now: cfg.Now}, Pages: pages, Now: cfg.Now},
		&Logout{Sessions: sess, Pages: pages, Redirects: logoutRedirects(cfg.OAuth)},
	}
	if cfg.SCIM != nil {
		features = append(features, &SCIMPage{Store: cfg.Store, Provider: cfg.SCIM, Pages: pages})
	}
	if cfg.Webhooks != nil {
		wh := &Webhooks{Store: cfg.Store, Service: cfg.Webhooks, Partners: &partners.Service{Store: cfg.Store, Now: cfg.Now},
			Pages: pages, Issuer: strings.TrimRight(cfg.Issuer, "/"), Now: cfg.Now}
		features = append(features, wh)
		e.POST(InboundHookPath+":id", wh.inbound) // outside sessions and CSRF: signed
	}
	if cfg.Issuers != nil {
		features = append(features, &Issuers{Store: cfg.Store, Pages: pages, Registry: cfg.Issuers})
	}
	features = append(features, signInFeatures(cfg, sess, pages)...)
	for _, f := range features {
		f.Mount(root)
	}
	return e, nil
}

// adminAPI builds the admin API on the authorization server's registrar
// and token verification when it has them.
func adminAPI(cfg Config) *adminapi.API {
	ac := adminapi.Config{Store: cfg.Store, Issuer: cfg.Issuer, Now: cfg.Now, Log: cfg.Logger, Sealer: cfg.SignIn.Sealer,
		Webhooks: cfg.Webhooks}
	if rs, ok := cfg.OAuth.(registrarSource); ok {
		ac.Registrar = rs.Registrar()
	}
	if cfg.SignIn.Registry != nil {
		ac.Federation = &federation.Service{Store: cfg.Store, Sealer: cfg.SignIn.Sealer, Registry: cfg.SignIn.Registry, Now: cfg.Now}
	}
	if ir, ok := cfg.Issuers.(adminapi.IssuerRegistry); ok {
		ac.Issuers = ir
	}
	ac.Locator = cfg.Locator
	if v, ok := cfg.OAuth.(adminapi.TokenVerifier); ok {
		ac.Verifier = v
	}
	return adminapi.New(ac)
}

// ipExtractor believes X-Forwarded-For only from the trusted proxies; from
// anyone else it uses the connection's peer address.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(prefixToIPNet(p)))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// recoverer turns a panic into a 500 page and a log line with the stack.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.Error("panic", "err", err, "path", c.Request().URL.Path, "stack", string(stack))
			return err
		},
	})
}

// requestID is a new X-Request-ID, 32 letters like echo's default, drawn
// from the runtime's per-thread ChaCha8 generator (math/rand/v2) rather
// than from crypto/rand through a pooled reader: the ID correlates log
// lines and protects nothing, and every request pays for it.
func requestID() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [32]byte
	for i := 0; i < len(b); {
		r := rand.Uint64()
		for range 11 { // 52^11 < 2^64
			if i == len(b) {
				break
			}
			b[i] = letters[r%52]
			r /= 52
			i++
		}
	}
	return string(b[:])
}

// requestLog writes one structured line per request.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			r := c.Request()
			if !log.Enabled(r.Context(), slog.LevelDebug) {
				return nil // the arguments below cost more than the call
			}
			log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", c.Response().Status,
				"dur", time.Since(start), "ip", c.RealIP(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			return nil
		}
	}
}

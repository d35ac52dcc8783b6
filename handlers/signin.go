package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/federation"
	"portico/federation/pool"
	"portico/netguard"
	"portico/policyeditor"
	"portico/store"
	"portico/views"
)

// SignInConfig is what the sign-in flow needs beyond the common Config.
type SignInConfig struct {
	// Sealer opens connection secrets and seals pending sign-ins and TOTP
	// secrets. Without it only identity-pool passwords work.
	Sealer *store.Sealer
	// Registry holds the connection types (federation/builtin.Registry()).
	Registry *federation.Registry
	// Completer finishes a pending OAuth authorization request after sign-in;
	// nil until the authorization server is wired.
	Completer LoginCompleter
	// Consent is the authorization server's consent step; nil until the
	// authorization server is wired.
	Consent ConsentServer
	// HTTPClient talks to upstream IdPs; nil means a 10-second-timeout
	// client on netguard's dialer with Config.UpstreamAllow. A client given
	// here is used as is (it had better be guarded too).
	HTTPClient *http.Client
	// Sleep waits by the delay schedule after a failed password or code;
	// nil is a real wait. Tests record the delays instead.
	Sleep func(ctx context.Context, d time.Duration)
}

// LoginCompleter is the authorization server as the sign-in flow sees it.
// It is declared here, by its consumer; cmd/portico adapts authserver to it.
type LoginCompleter interface {
	// CompleteLogin returns where to send the browser. An error matching
	// ErrStepUpRequired asks for step-up MFA and another call with
	// SteppedUp; ErrUnknownAuthRequest means the request is gone.
	CompleteLogin(ctx context.Context, authRequestID string, s CompletedSignIn) (redirect string, err error)
}

// ClientDescriber is an optional ability of a LoginCompleter: for a pending
// request whose client identified itself by a Client ID Metadata Document
// (an unregistered client, an AI agent for one), what it says about itself,
// for the sign-in page to show as not verified. ok is false for registered
// clients.
type ClientDescriber interface {
	UnverifiedClient(ctx context.Context, authRequestID string) (c views.UnverifiedClient, ok bool)
}

// CompletedSignIn is who signed in, and how, for LoginCompleter.
type CompletedSignIn struct {
	UserID   string
	AuthTime time.Time
	MFAAt    time.Time
	AMR      []string
	// AuthMethods are the amr values with when each was last used.
	AuthMethods  map[string]time.Time
	ConnectionID string
	IP           netip.Addr
	SteppedUp    bool
	// User is the person as this request read them (the session's user),
	// so the server need not read them again.
	User *store.User
}

// StepUpError is ErrStepUpRequired saying what the step-up must use:
// Methods are amr values, any one of them ("hwk", "swk": a passkey); empty
// means any second factor.
type StepUpError struct {
	Methods []string
	Err     error
}

func (e *StepUpError) Error() string { return e.Err.Error() }

// Is makes errors.Is(err, ErrStepUpRequired) true.
func (e *StepUpError) Is(target error) bool { return target == ErrStepUpRequired }

// Unwrap returns the completer's own error.
func (e *StepUpError) Unwrap() error { return e.Err }

// stepUpMethods is what err asks the step-up to use; nil means anything.
func stepUpMethods(err error) []string {
	var s *StepUpError
	if errors.As(err, &s) {
		return s.Methods
	}
	return nil
}

// Errors a LoginCompleter returns, matched with errors.Is.
var (
	ErrStepUpRequired           = errors.New("sign-in: step-up authentication required")
	ErrUnknownAuthRequest       = errors.New("sign-in: unknown or expired authorization request")
	ErrReauthenticationRequired = errors.New("sign-in: the app requires a fresh sign-in")
)

// Routes of the sign-in flow that upstreams and admins need to know.
const (
	CallbackPath     = "/login/callback"
	SAMLACSPath      = "/login/saml/acs"
	samlMetadataPath = "/login/saml/metadata/"
)

// signInFeatures builds the sign-in, MFA and connection-management
// features sharing one connector cache.
func signInFeatures(cfg Config, sess *Sessions, pages *Pages) []interface{ Mount(*echo.Group) } {
	sc := cfg.SignIn
	if sc.Registry == nil {
		sc.Registry = federation.NewRegistry()
	}
	hc := sc.HTTPClient
	if hc == nil {
		hc = netguard.Guard{Allow: cfg.UpstreamAllow}.Client(netguard.ClientOptions{Timeout: 10 * time.Second})
	}
	base := strings.TrimRight(cfg.Issuer, "/")
	cache := &federation.Cache{Registry: sc.Registry, Sealer: sc.Sealer, Env: func(conn store.Connection) federation.Env {
		return federation.Env{BaseURL: base, CallbackURL: base + CallbackPath, SAMLACSURL: base + SAMLACSPath,
			SAMLMetadataURL: base + samlMetadataPath + conn.ID, HTTPClient: hc, Now: cfg.Now}
	}}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	mailer := securityMailer(cfg)
	login := &Login{Store: cfg.Store, Sessions: sess, Pages: pages, Log: log, Now: cfg.Now, Sealer: sc.Sealer,
		Connectors: cache, Completer: sc.Completer, Policies: cfg.Policies, Locator: cfg.Locator,
		Provisioner: &federation.Provisioner{Store: cfg.Store, Now: cfg.Now}, Sleep: sc.Sleep, Mailer: mailer, Metrics: cfg.Metrics,
		BaseURL: base}
	if cfg.Policies != nil {
		login.Preview = policyeditor.NewEngine(cfg.Store, nil)
	}
	rp, err := newRelyingParty(cfg.Issuer)
	if err != nil {
		log.Warn("passkeys are off", "err", err)
		rp = nil
	}
	login.RP = rp
	svc := &federation.Service{Store: cfg.Store, Sealer: sc.Sealer, Registry: sc.Registry, Now: cfg.Now}
	return []interface{ Mount(*echo.Group) }{
		login,
		&Consent{Login: login, Server: sc.Consent, Pages: pages},
		&Passkeys{Store: cfg.Store, Pages: pages, RP: rp, Now: cfg.Now, Log: log, Sleep: sc.Sleep, Mailer: mailer},
		&MFA{Store: cfg.Store, Pages: pages, Sealer: sc.Sealer, Now: cfg.Now, Log: log, Sleep: sc.Sleep, Mailer: mailer, Sessions: sess},
		&Connections{Store: cfg.Store, Pages: pages, Service: svc, Connectors: cache, Log: log, BaseURL: base},
		&ResetLinks{Store: cfg.Store, Pages: pages, Accounts: &pool.Accounts{Store: cfg.Store, Now: cfg.Now}, BaseURL: base, Log: log},
	}
}

// securityMailer is cfg.Mailer when it can send security notices.
func securityMailer(cfg Config) SecurityMailer {
	m, _ := cfg.Mailer.(SecurityMailer)
	return m
}

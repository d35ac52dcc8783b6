package main

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"portico/netguard"
	"portico/partners"
	"portico/store"
)

// Config is the server's configuration, from flags or PORTICO_* variables
// (a flag wins over its variable).
type Config struct {
	Addr           string
	DB             string
	Issuer         string
	TrustedProxies []netip.Prefix
	// SecretKey encrypts secrets at rest; from PORTICO_SECRET_KEY (base64 of
	// 32 bytes) or else a key file beside the database, generated on first run.
	SecretKey     []byte
	SecretKeyFile string
	Demo          bool
	LogLevel      slog.Level
	// GeoIPDB is a MaxMind .mmdb file for countries; empty means the
	// embedded IP2Location LITE table.
	GeoIPDB string
	// SMTP sends invitation links by mail; with SMTPAddr empty the portal
	// shows each link to the inviter to pass on instead.
	SMTPAddr     string // host:port
	SMTPFrom     string // sender address, required with SMTPAddr
	SMTPUsername string // empty: no authentication
	SMTPPassword string
	// UpstreamAllow lists non-public ranges that server-side requests to
	// identity providers and clients' jwks_uri may reach anyway; everything
	// else that is not on the public internet is refused (SSRF).
	UpstreamAllow []netip.Prefix
	// ClientIDMetadata accepts clients identified by a Client ID Metadata
	// Document (MCP agents); each organization can still refuse them.
	ClientIDMetadata bool
	// clientMetadataRoots replaces the system roots when fetching client
	// metadata documents. Tests only (no flag): they serve documents from
	// httptest TLS servers.
	clientMetadataRoots *x509.CertPool
	// RequirePAR makes every client push its authorization requests (RFC
	// 9126); RequireDPoP makes every token request carry a DPoP proof (RFC
	// 9449); DPoPNonce makes proofs carry a server nonce (RFC 9449 §8).
	RequirePAR  bool
	RequireDPoP bool
	DPoPNonce   bool
	// AuthorizerTrusted are the gateways whose forwarded facts the
	// authorizer believes: PORTICO_AUTHORIZER_TRUSTED, else
	// PORTICO_TRUSTED_PROXIES, else loopback only.
	AuthorizerTrusted []netip.Prefix
	// AuthorizerHeaders renames the authorizer's identity headers,
	// "subject=X-User,org=X-Tenant" (PORTICO_AUTHORIZER_HEADERS).
	AuthorizerHeaders map[string]string

	// SessionMaxAge ends every portal session this long after sign-in.
	SessionMaxAge time.Duration
	// DecisionRetention and AuditRetention are how long the decision log
	// and the audit log are kept (PORTICO_DECISION_RETENTION, default 30d;
	// PORTICO_AUDIT_RETENTION, default 365d); 0 keeps them forever.
	DecisionRetention time.Duration
	AuditRetention    time.Duration
	// MetricsAddr is where Prometheus metrics are served
	// (PORTICO_METRICS_ADDR): "" at /metrics of the main listener, "off"
	// nowhere, or host:port for a listener of their own (kept off the
	// public port).
	MetricsAddr string
	// AuditStream sends every audit event as a JSON line to "stdout" or
	// POSTs batches to an https URL (PORTICO_AUDIT_STREAM); "" is off.
	// AuditStreamSecret ("whsec_…") signs the POSTs like webhooks.
	AuditStream       string
	AuditStreamSecret string
	// WebhookEndingNotice is how long before a partnership ends the
	// partnership.ending webhook goes out (PORTICO_WEBHOOK_ENDING_NOTICE).
	WebhookEndingNotice time.Duration

	// OTelTraces exports traces over OTLP/HTTP (PORTICO_OTEL_TRACES=true,
	// or the standard OTEL_TRACES_EXPORTER=otlp); OTelEndpoint overrides
	// the standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT.
	OTelTraces   bool
	OTelEndpoint string

	rawEndingNotice string

	rawDecisionRetention string
	rawClientIDMetadata  string
	rawAuditRetention    string
	rawUpstreamAllow     string
	rawAuthzTrusted      string
	rawAuthzHeaders      string
	rawSessionMaxAge     string
	rawProxies           string
	rawSecretKey         string
	rawLogLevel          string
}

// parseConfig reads flags and environment. Every problem is reported at once.
func (c *cli) parseConfig(args []string) (*Config, error) {
	cfg := &Config{}
	fs := c.newFlags("serve")
	env := func(name, def string) string {
		if v := c.getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&cfg.Addr, "addr", env("PORTICO_ADDR", "localhost:8080"), "listen address (env PORTICO_ADDR)")
	fs.StringVar(&cfg.DB, "db", env("PORTICO_DB", "portico.db"), "SQLite database file or postgres:// URL (env PORTICO_DB)")
	fs.StringVar(&cfg.Issuer, "issuer", env("PORTICO_ISSUER", ""), "public base URL, also the OAuth issuer (env PORTICO_ISSUER; default from --addr)")
	fs.StringVar(&cfg.rawProxies, "trusted-proxies", env("PORTICO_TRUSTED_PROXIES", ""), "comma-separated CIDRs whose X-Forwarded-For is believed (env PORTICO_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.rawSecretKey, "secret-key", env("PORTICO_SECRET_KEY", ""), "base64 of 32 bytes that encrypt secrets at rest (env PORTICO_SECRET_KEY; default: a key file beside the database)")
	fs.BoolVar(&cfg.Demo, "demo", env("PORTICO_DEMO", "") == "true", "seed sample organizations, users and apps (env PORTICO_DEMO=true)")
	fs.StringVar(&cfg.GeoIPDB, "geoip", env("PORTICO_GEOIP_DB", ""), "MaxMind .mmdb file for countries (env PORTICO_GEOIP_DB; default: the embedded IP2Location LITE table)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", env("PORTICO_SMTP_ADDR", ""), "SMTP server host:port that sends invitations and password reset links (env PORTICO_SMTP_ADDR; default: invitation links are shown to the inviter, and nobody can ask for a reset link by mail)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", env("PORTICO_SMTP_FROM", ""), "sender of invitation mail, e.g. 'Portico <portal@example.com>' (env PORTICO_SMTP_FROM)")
	fs.StringVar(&cfg.SMTPUsername, "smtp-username", env("PORTICO_SMTP_USERNAME", ""), "SMTP user name; empty sends without authentication (env PORTICO_SMTP_USERNAME)")
	fs.StringVar(&cfg.SMTPPassword, "smtp-password", env("PORTICO_SMTP_PASSWORD", ""), "SMTP password (env PORTICO_SMTP_PASSWORD; prefer the variable, since a flag shows in the process list)")
	fs.StringVar(&cfg.rawDecisionRetention, "decision-retention", env("PORTICO_DECISION_RETENTION", "30d"), "how long policy decisions are kept, e.g. 30d or 720h; 0 keeps them forever (env PORTICO_DECISION_RETENTION)")
	fs.StringVar(&cfg.rawAuditRetention, "audit-retention", env("PORTICO_AUDIT_RETENTION", "365d"), "how long audit events are kept, e.g. 365d; 0 keeps them forever (env PORTICO_AUDIT_RETENTION)")
	fs.StringVar(&cfg.rawClientIDMetadata, "client-id-metadata", env("PORTICO_CLIENT_ID_METADATA", "allow"), "allow or deny OAuth clients identified by a Client ID Metadata Document, an https URL as client_id (MCP agents); organizations can refuse them on their own (env PORTICO_CLIENT_ID_METADATA)")
	fs.StringVar(&cfg.rawUpstreamAllow, "upstream-allow", env("PORTICO_UPSTREAM_ALLOW", ""), "comma-separated CIDRs that requests to identity providers and jwks_uri may reach although not public, e.g. a test IdP on 127.0.0.1/32 (env PORTICO_UPSTREAM_ALLOW)")
	fs.StringVar(&cfg.rawSessionMaxAge, "session-max-age", env("PORTICO_SESSION_MAX_AGE", "7d"), "absolute lifetime of a portal session, e.g. 7d or 12h (env PORTICO_SESSION_MAX_AGE)")
	fs.BoolVar(&cfg.RequirePAR, "require-par", env("PORTICO_REQUIRE_PAR", "") == "true", "every client must use pushed authorization requests, RFC 9126 (env PORTICO_REQUIRE_PAR=true)")
	fs.BoolVar(&cfg.RequireDPoP, "require-dpop", env("PORTICO_REQUIRE_DPOP", "") == "true", "every token request must carry a DPoP proof, RFC 9449 (env PORTICO_REQUIRE_DPOP=true)")
	fs.BoolVar(&cfg.DPoPNonce, "dpop-nonce", env("PORTICO_DPOP_NONCE", "") == "true", "DPoP proofs must carry a server-provided nonce, RFC 9449 §8 (env PORTICO_DPOP_NONCE=true)")
	fs.StringVar(&cfg.rawAuthzTrusted, "authorizer-trusted", env("PORTICO_AUTHORIZER_TRUSTED", ""), "comma-separated CIDRs of the gateways that may ask the authorizer (env PORTICO_AUTHORIZER_TRUSTED; default PORTICO_TRUSTED_PROXIES, else loopback)")
	fs.StringVar(&cfg.rawAuthzHeaders, "authorizer-headers", env("PORTICO_AUTHORIZER_HEADERS", ""), "rename the authorizer's identity headers, e.g. subject=X-User,org=X-Tenant,scopes=X-Scopes,groups=X-Groups (env PORTICO_AUTHORIZER_HEADERS)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("PORTICO_METRICS_ADDR", ""), "Prometheus metrics: empty serves /metrics on --addr, off turns them off, host:port serves them on a listener of their own (env PORTICO_METRICS_ADDR)")
	fs.StringVar(&cfg.AuditStream, "audit-stream", env("PORTICO_AUDIT_STREAM", ""), "stream audit events as JSON lines: stdout, or an https URL that receives POSTed batches (env PORTICO_AUDIT_STREAM)")
	fs.StringVar(&cfg.AuditStreamSecret, "audit-stream-secret", env("PORTICO_AUDIT_STREAM_SECRET", ""), "whsec_ secret that signs the audit stream's POSTs like webhooks (env PORTICO_AUDIT_STREAM_SECRET)")
	fs.StringVar(&cfg.rawEndingNotice, "webhook-ending-notice", env("PORTICO_WEBHOOK_ENDING_NOTICE", "14d"), "how long before a partnership ends the partnership.ending webhook is sent (env PORTICO_WEBHOOK_ENDING_NOTICE)")
	fs.BoolVar(&cfg.OTelTraces, "otel-traces", env("PORTICO_OTEL_TRACES", "") == "true" || env("OTEL_TRACES_EXPORTER", "") == "otlp", "export OpenTelemetry traces over OTLP/HTTP, configured by the standard OTEL_* variables (env PORTICO_OTEL_TRACES=true or OTEL_TRACES_EXPORTER=otlp)")
	fs.StringVar(&cfg.OTelEndpoint, "otel-endpoint", "", "OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4318)")
	fs.StringVar(&cfg.rawLogLevel, "log-level", env("PORTICO_LOG_LEVEL", "info"), "debug, info, warn or error (env PORTICO_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, cfg.validate()
}

// validate checks and completes the configuration, listing every problem.
func (cfg *Config) validate() error {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		bad("PORTICO_ADDR %q is not host:port", cfg.Addr)
	}
	if cfg.DB == "" {
		bad("PORTICO_DB must name a file")
	}
	if cfg.Issuer == "" && err == nil {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		cfg.Issuer = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(cfg.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		bad("PORTICO_ISSUER %q must be an absolute http(s) URL without query or fragment", cfg.Issuer)
	} else {
		cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
		if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
			bad("PORTICO_ISSUER %q must use https unless it is a loopback address", cfg.Issuer)
		}
	}
	cfg.TrustedProxies = parsePrefixes(cfg.rawProxies, "PORTICO_TRUSTED_PROXIES", bad)
	cfg.AuthorizerTrusted = parsePrefixes(cfg.rawAuthzTrusted, "PORTICO_AUTHORIZER_TRUSTED", bad)
	if len(cfg.AuthorizerTrusted) == 0 {
		cfg.AuthorizerTrusted = cfg.TrustedProxies
	}
	for _, kv := range strings.Split(cfg.rawAuthzHeaders, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		switch k = strings.TrimSpace(k); {
		case !ok || strings.TrimSpace(v) == "" || strings.ContainsAny(v, " :"):
			bad("PORTICO_AUTHORIZER_HEADERS: %q is not name=Header-Name", kv)
		case k != "subject" && k != "org" && k != "scopes" && k != "groups" && k != "decision":
			bad("PORTICO_AUTHORIZER_HEADERS: %q is not one of subject, org, scopes, groups, decision", k)
		default:
			if cfg.AuthorizerHeaders == nil {
				cfg.AuthorizerHeaders = map[string]string{}
			}
			cfg.AuthorizerHeaders[k] = strings.TrimSpace(v)
		}
	}
	if cfg.rawSecretKey != "" {
		k, err := base64.StdEncoding.DecodeString(cfg.rawSecretKey)
		if err != nil || len(k) != 32 {
			bad("PORTICO_SECRET_KEY must be the base64 encoding of exactly 32 bytes")
		}
		cfg.SecretKey = k
	} else if store.IsPostgres(cfg.DB) {
		// Replicas share the database, so they must share the key too.
		bad("PORTICO_SECRET_KEY is required with a PostgreSQL PORTICO_DB: every replica must use the same key")
	} else if cfg.DB != "" {
		cfg.SecretKeyFile = cfg.DB + ".key"
	}
	var err2 error
	if cfg.DecisionRetention, err2 = parseRetention(cfg.rawDecisionRetention, defaultDecisionRetention); err2 != nil {
		bad("PORTICO_DECISION_RETENTION: %v", err2)
	}
	if cfg.AuditRetention, err2 = parseRetention(cfg.rawAuditRetention, defaultAuditRetention); err2 != nil {
		bad("PORTICO_AUDIT_RETENTION: %v", err2)
	}
	if allow, err := netguard.ParseAllow(cfg.rawUpstreamAllow); err != nil {
		bad("PORTICO_UPSTREAM_ALLOW: %v", err)
	} else {
		cfg.UpstreamAllow = allow
	}
	switch cfg.rawClientIDMetadata {
	case "", "allow": // "" when a Config is built without flags (bench)
		cfg.ClientIDMetadata = true
	case "deny":
	default:
		bad("PORTICO_CLIENT_ID_METADATA %q is not allow or deny", cfg.rawClientIDMetadata)
	}
	cfg.validateSMTP(bad)
	switch {
	case cfg.AuditStream == "" || cfg.AuditStream == "stdout":
	case strings.HasPrefix(cfg.AuditStream, "https://"), strings.HasPrefix(cfg.AuditStream, "http://") && isLoopbackURL(cfg.AuditStream):
		if _, err := url.Parse(cfg.AuditStream); err != nil {
			bad("PORTICO_AUDIT_STREAM %q is not a URL", cfg.AuditStream)
		}
	default:
		bad("PORTICO_AUDIT_STREAM %q is not stdout or an https URL", cfg.AuditStream)
	}
	if cfg.AuditStreamSecret != "" && !strings.HasPrefix(cfg.AuditStreamSecret, "whsec_") {
		bad("PORTICO_AUDIT_STREAM_SECRET must start with whsec_")
	}
	if cfg.rawEndingNotice == "" {
		cfg.rawEndingNotice = "14d"
	}
	if d, err := parseDays(cfg.rawEndingNotice); err != nil || d < time.Hour || d > 365*24*time.Hour {
		bad("PORTICO_WEBHOOK_ENDING_NOTICE %q must be a duration between 1h and 365d, e.g. 14d", cfg.rawEndingNotice)
	} else {
		cfg.WebhookEndingNotice = d
	}
	if cfg.MetricsAddr != "" && cfg.MetricsAddr != "off" {
		if _, _, err := net.SplitHostPort(cfg.MetricsAddr); err != nil {
			bad("PORTICO_METRICS_ADDR %q is not empty, off or host:port", cfg.MetricsAddr)
		}
	}
	if cfg.rawSessionMaxAge == "" {
		cfg.rawSessionMaxAge = "7d"
	}
	if d, err := parseDays(cfg.rawSessionMaxAge); err != nil || d < 5*time.Minute || d > 400*24*time.Hour {
		bad("PORTICO_SESSION_MAX_AGE %q must be a duration between 5m and 400d, e.g. 7d or 12h", cfg.rawSessionMaxAge)
	} else {
		cfg.SessionMaxAge = d
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(cfg.rawLogLevel)); err != nil {
		bad("PORTICO_LOG_LEVEL %q is not debug, info, warn or error", cfg.rawLogLevel)
	}
	if len(problems) > 0 {
		return errors.New("invalid configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return nil
}

// validateSMTP checks the mail settings. Settings that only make sense with
// a server are refused without one rather than ignored, so a mistyped
// PORTICO_SMTP_ADDR cannot silently turn mail off.
func (cfg *Config) validateSMTP(bad func(format string, a ...any)) {
	if cfg.SMTPAddr == "" {
		if cfg.SMTPFrom != "" || cfg.SMTPUsername != "" || cfg.SMTPPassword != "" {
			bad("PORTICO_SMTP_FROM, PORTICO_SMTP_USERNAME and PORTICO_SMTP_PASSWORD need PORTICO_SMTP_ADDR")
		}
		return
	}
	if host, port, err := net.SplitHostPort(cfg.SMTPAddr); err != nil || host == "" || port == "" {
		bad("PORTICO_SMTP_ADDR %q is not host:port", cfg.SMTPAddr)
	}
	if cfg.SMTPFrom == "" {
		bad("PORTICO_SMTP_FROM is required with PORTICO_SMTP_ADDR")
	} else if _, err := mail.ParseAddress(cfg.SMTPFrom); err != nil {
		bad("PORTICO_SMTP_FROM %q is not an email address", cfg.SMTPFrom)
	}
	if cfg.SMTPPassword != "" && cfg.SMTPUsername == "" {
		bad("PORTICO_SMTP_PASSWORD needs PORTICO_SMTP_USERNAME")
	}
}

// mailer is the configured invitation mailer, or nil when mail is off.
func (cfg *Config) mailer() partners.Mailer {
	if cfg.SMTPAddr == "" {
		return nil
	}
	return &partners.SMTPMailer{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword}
}

func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && isLoopbackHost(u.Hostname())
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// loadSecretKey returns the configured key, or reads (creating on first run)
// the key file. The file is created exclusively with mode 0600, so two
// processes starting together cannot end up with different keys.
func (cfg *Config) loadSecretKey() ([]byte, error) {
	if cfg.SecretKey != nil {
		return cfg.SecretKey, nil
	}
	return loadOrCreateKeyFile(cfg.SecretKeyFile)
}

// sealer returns the Sealer over the secret key. The server builds it once
// and hands it to everything that keeps secrets at rest.
func (cfg *Config) sealer() (*store.Sealer, error) {
	key, err := cfg.loadSecretKey()
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return store.NewSealer(key)
}

func loadOrCreateKeyFile(path string) ([]byte, error) {
	read := func() ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("secret key file %s does not hold base64 of 32 bytes", path)
		}
		return k, nil
	}
	if k, err := read(); err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	rand.Read(k)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return read()
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}

// usedFlag reports whether fs saw the named flag on the command line.
func usedFlag(fs *flag.FlagSet, name string) bool {
	seen := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			seen = true
		}
	})
	return seen
}

// parseRetention reads a retention: whole days ("30d") or a Go duration
// ("720h") between an hour and 36500 days, or "0" for forever; "" is the
// default.
func parseRetention(s string, def time.Duration) (time.Duration, error) {
	switch s = strings.TrimSpace(s); s {
	case "":
		return def, nil
	case "0":
		return 0, nil
	}
	d, err := parseDays(s)
	if err != nil || d < time.Hour || d > 36500*24*time.Hour {
		return 0, fmt.Errorf("%q is not a number of days (30d), a duration between 1h and 36500d, or 0", s)
	}
	return d, nil
}

// parseDays is time.ParseDuration that also accepts whole days ("7d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parsePrefixes reads a comma-separated list of CIDRs or addresses the way
// PORTICO_UPSTREAM_ALLOW is read (netguard.ParseAllow), naming the setting
// in the error.
func parsePrefixes(raw, name string, bad func(string, ...any)) []netip.Prefix {
	out, err := netguard.ParseAllow(raw)
	if err != nil {
		bad("%s: %v", name, err)
	}
	return out
}

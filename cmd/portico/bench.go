package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"portico/authserver"
	"portico/partners"
	"portico/store"
)

// benchOrgSlug is the organization the bench's throwaway client belongs to;
// on a database given with --db it is reused from run to run.
const benchOrgSlug = "portico-bench"

func runBench(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "bench", args, map[string]func(context.Context, *cli, []string) error{
		"tokens": runBenchTokens,
		"seed":   runBenchSeed,
		"pages":  runBenchPages,
		"paths":  runBenchPaths,
		"soak":   runBenchSoak,
	})
}

// benchFlags are the options of `portico bench tokens`.
type benchFlags struct {
	addr      string
	db        string
	clients   int
	duration  time.Duration
	requests  int
	reference bool
	dpop      bool
	asJSON    bool
}

func (c *cli) parseBenchFlags(args []string) (benchFlags, error) {
	var f benchFlags
	fs := c.newFlags("bench tokens")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "loopback address to serve the portal on: 127.0.0.0/8 or [::1] only")
	fs.StringVar(&f.db, "db", "", "SQLite database file (default: a temporary one, removed afterwards)")
	fs.IntVar(&f.clients, "clients", 64, "concurrent clients, each with one keep-alive connection")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long each phase runs at most (it also bounds --requests)")
	fs.IntVar(&f.requests, "requests", 0, "stop each phase after this many requests (0: --duration alone)")
	fs.BoolVar(&f.reference, "reference", true, "also measure GET /healthz with the same clients, for a same-run ratio")
	fs.BoolVar(&f.dpop, "dpop", false, "also measure client_credentials with a DPoP proof (ES256) on every request, right after the bearer phase, and report the ratio")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	if err := parseArgs(fs, args); err != nil {
		return f, err
	}
	var problems []string
	if err := requireLoopback(f.addr); err != nil {
		problems = append(problems, err.Error())
	}
	if f.clients < 1 || f.clients > 4096 {
		problems = append(problems, "--clients must be between 1 and 4096")
	}
	if f.duration <= 0 || f.duration > time.Hour {
		problems = append(problems, "--duration must be positive and at most 1h, so the bench always stops by itself")
	}
	if f.requests < 0 {
		problems = append(problems, "--requests must not be negative")
	}
	if f.dpop && f.duration > maxDPoPPhase {
		problems = append(problems, fmt.Sprintf("--dpop needs --duration of at most %s: proofs are signed before the phase and are accepted for 60 s", maxDPoPPhase))
	}
	if len(problems) > 0 {
		return f, errors.New("bench tokens:\n  - " + strings.Join(problems, "\n  - "))
	}
	return f, nil
}

// requireLoopback accepts only an IP literal in 127.0.0.0/8 or ::1: the
// bench generates load as fast as it can and must never aim it at another
// machine, and a host name could resolve anywhere.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not host:port", addr)
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" || !a.Unmap().IsLoopback() {
		return fmt.Errorf("--addr %q: the bench runs on a loopback address only (127.0.0.0/8 or [::1])", addr)
	}
	return nil
}

// runBenchTokens starts the real portal (serve's wiring) on loopback, gives
// it a throwaway service client and drives client_credentials at it.
func runBenchTokens(ctx context.Context, c *cli, args []string) error {
	f, err := c.parseBenchFlags(args)
	if err != nil {
		return err
	}
	temporary := f.db == ""
	if temporary {
		dir, err := os.MkdirTemp("", "portico-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		f.db = filepath.Join(dir, "portico.db")
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := requireLoopback(ln.Addr().String()); err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	cfg := &Config{Addr: ln.Addr().String(), DB: f.db, Issuer: base, rawLogLevel: "warn",
		rawSecretKey: c.getenv("PORTICO_SECRET_KEY")} // a --db of a real portal may use it
	if err := cfg.validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	setProcessLogger(log)
	quiet := *c
	quiet.stdout = c.stderr // first-run notes are not part of the report
	if temporary {
		quiet.stdout = io.Discard // the admin of a database about to be removed
	}
	app, err := wire(ctx, &quiet, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()
	clientID, secret, remove, err := benchClient(ctx, app, c.now)
	if err != nil {
		return fmt.Errorf("bench client: %w", err)
	}
	defer remove()

	srv := &http.Server{Handler: app.handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	tr := &http.Transport{Proxy: nil, MaxIdleConns: f.clients, MaxIdleConnsPerHost: f.clients,
		MaxConnsPerHost: f.clients, IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	// A per-request timeout bounds the run even if the server stops answering.
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	tokenURL := base + "/token"
	user, pass := url.QueryEscape(clientID), url.QueryEscape(secret) // RFC 6749 §2.3.1
	tokens := load{Client: hc, Clients: f.clients, Duration: f.duration, Requests: f.requests, Now: c.now,
		NewRequest: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials"))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(user, pass)
			return req, nil
		}}
	// One request first: a broken setup is an error, not a report of errors.
	if err := tokens.once(ctx); err != nil {
		return fmt.Errorf("the portal refused the bench client: %w", err)
	}
	rep := benchReport{Target: tokenURL, Clients: f.clients, DurationLimit: f.duration.String(), RequestLimit: f.requests}
	rep.Tokens = phaseOf("/token", tokens.run(ctx))
	if f.dpop && ctx.Err() == nil {
		need := f.requests
		if need == 0 {
			// Enough for the bearer rate plus a margin; past it, proofs are
			// signed during the phase (and the figure says less).
			need = min(int(rep.Tokens.PerSecond*f.duration.Seconds()*1.5)+f.clients, maxPresigned)
		}
		proofs, err := newProofSource(tokenURL, need, c.now)
		if err != nil {
			return err
		}
		dp := tokens
		dp.Want = `"token_type":"DPoP"`
		dp.NewRequest = func(ctx context.Context) (*http.Request, error) {
			req, err := tokens.NewRequest(ctx)
			if err != nil {
				return nil, err
			}
			p, err := proofs.next()
			if err != nil {
				return nil, err
			}
			req.Header.Set("DPoP", p)
			return req, nil
		}
		p := phaseOf("/token (DPoP)", dp.run(ctx))
		p.SignedDuringPhase = proofs.onTheFly()
		rep.DPoP = &p
		if rep.Tokens.PerSecond > 0 {
			rep.DPoPRatio = round(p.PerSecond/rep.Tokens.PerSecond, 3)
		}
	}
	if f.reference && ctx.Err() == nil {
		ref := tokens
		ref.NewRequest = func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		}
		p := phaseOf("/healthz", ref.run(ctx))
		rep.Reference = &p
		if p.PerSecond > 0 {
			rep.Ratio = round(rep.Tokens.PerSecond/p.PerSecond, 3)
		}
	}
	if err := c.output(f.asJSON, rep, rep.human()); err != nil {
		return err
	}
	if rep.Tokens.Requests == rep.Tokens.Errors {
		return errNoSuccess
	}
	return ctx.Err()
}

// benchClient creates a service client in the bench organization (creating
// that on first use) and returns a function that deletes the client again.
func benchClient(ctx context.Context, app *app, now func() time.Time) (id, secret string, remove func(), err error) {
	org, err := app.store.OrganizationBySlug(ctx, benchOrgSlug)
	if errors.Is(err, store.ErrNotFound) {
		slug, name := benchOrgSlug, "Portico bench"
		svc := &partners.Service{Store: app.store, Now: now}
		org, err = svc.CreateOrg(ctx, store.Actor{Label: "bench"}, partners.OrgInput{Slug: &slug, Name: &name})
	}
	if err != nil {
		return "", "", nil, err
	}
	reg, actor := app.oauth.Registrar(), authserver.Actor{Label: "bench"}
	cl, secret, err := reg.Register(ctx, org.ID, actor, authserver.RegisterInput{
		Name: "portico bench " + now().UTC().Format("20060102T150405.000"), Type: store.ClientService})
	if err != nil {
		return "", "", nil, err
	}
	return cl.ClientID, secret, func() { reg.Delete(context.WithoutCancel(ctx), org.ID, cl.ClientID, actor) }, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"portico/authserver"
	"portico/handlers"
	"portico/policyeditor"
	"portico/scim"
	"portico/store"
)

func runServe(ctx context.Context, c *cli, args []string) error {
	cfg, err := c.parseConfig(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	setProcessLogger(log) // libraries that log through slog.Default() get the same handler

	app, err := wire(ctx, c, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Info("Portico is listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer, "db", store.RedactDSN(cfg.DB))
	fmt.Fprintf(c.stdout, "Portico is running at %s (database %s). Press Ctrl+C to stop.\n", cfg.Issuer, store.RedactDSN(cfg.DB))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newAuthServer builds the embedded authorization server. The portal's
// sign-in page is its login UI.
func newAuthServer(cfg *Config, st *store.Store, sealer *store.Sealer, now func() time.Time, log *slog.Logger, gate authserver.Gate) (*authserver.Server, error) {
	return authserver.New(authserver.Config{
		Issuer:         cfg.Issuer,
		Store:          st,
		Sealer:         sealer,
		Gate:           gate,
		LoginURL:       func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) },
		LogoutURL:      handlers.LogoutConfirmURL, // RP-initiated logout ends the portal session
		Now:            now,
		Logger:         log,
		AllowInsecure:  strings.HasPrefix(cfg.Issuer, "http://"), // Config.validate allows http only on loopback
		UpstreamAllow:  cfg.UpstreamAllow,
		ClientMetadata: authserver.ClientMetadataConfig{Enabled: cfg.ClientIDMetadata, RootCAs: cfg.clientMetadataRoots},
		RequirePAR:     cfg.RequirePAR,
		RequireDPoP:    cfg.RequireDPoP,
		DPoPNonce:      cfg.DPoPNonce,
	})
}

// app is the wired portal: its HTTP handler and what must be closed.
type app struct {
	handler http.Handler
	store   *store.Store
	oauth   *authserver.Server
	closers []func()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// wire builds every part of the portal in one visible place.
func wire(ctx context.Context, c *cli, cfg *Config, log *slog.Logger) (*app, error) {
	st, err := c.openStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	a := &app{store: st, closers: []func(){func() { st.Close() }}}
	fail := func(err error) (*app, error) { a.close(); return nil, err }

	sealer, err := cfg.sealer()
	if err != nil {
		return fail(err)
	}
	if err := ensureFirstAdmin(ctx, st, c.stdout, cfg.Issuer); err != nil {
		return fail(err)
	}
	loc, closeLoc, err := openLocator(cfg.GeoIPDB)
	if err != nil {
		return fail(err)
	}
	a.closers = append(a.closers, closeLoc)
	// One recorder and one engine decide everywhere, the dashboard's launches
	// and the authorization server's gate; closing flushes the decision log.
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: log})
	a.closers = append(a.closers, func() { rec.Close() })
	engine := policyeditor.NewEngine(st, rec)
	engine.Revalidate = 20 * time.Millisecond // CLI changes are seen within 20 ms

	pgate := &policyGate{st: st, engine: engine, loc: loc, log: log}
	oauth, err := newAuthServer(cfg, st, sealer, c.now, log, authserver.Chain{authserver.DefaultGate{}, pgate})
	if err != nil {
		return fail(fmt.Errorf("authorization server: %w", err))
	}
	a.oauth = oauth
	h := cfg.AuthorizerHeaders
	authorizer := oauth.Authorizer(authserver.AuthorizerConfig{Trusted: cfg.AuthorizerTrusted, Record: pgate.recordAPI,
		Headers: authserver.IdentityHeaders{Subject: h["subject"], Org: h["org"], Scopes: h["scopes"], Groups: h["groups"], Decision: h["decision"]}})
	a.closers = append(a.closers, housekeeper{OAuth: oauth, Sessions: st, Logs: st,
		DecisionRetention: cfg.DecisionRetention, AuditRetention: cfg.AuditRetention, Now: c.now, Log: log, Every: housekeepEvery}.start(ctx))
	var demo http.Handler
	if cfg.Demo {
		if err := seedDemo(ctx, st, oauth.Registrar(), c.stdout); err != nil {
			return fail(fmt.Errorf("demo data: %w", err))
		}
		if demo, err = demoApp(ctx, st, oauth.Registrar(), cfg.Issuer, log); err != nil {
			return fail(err)
		}
	}
	signIn := signInConfig(sealer, oauth)
	directory, err := scim.New(ctx, st, cfg.Issuer, c.now, log)
	if err != nil {
		return fail(err)
	}
	e, err := handlers.New(ctx, handlers.Config{
		Store:          st,
		Issuer:         cfg.Issuer,
		TrustedProxies: cfg.TrustedProxies,
		SessionMaxAge:  cfg.SessionMaxAge,
		Logger:         log,
		Now:            c.now,
		OAuth:          oauth,
		Authorizer:     authorizer,
		SignIn:         signIn,
		Policies:       engine,
		Locator:        loc,
		DemoApp:        demo,
		Mailer:         cfg.mailer(),
		UpstreamAllow:  cfg.UpstreamAllow,
		SCIM:           directory,
		Issuers:        oauth.Issuers(),
	})
	if err != nil {
		return fail(err)
	}
	a.handler = e
	return a, nil
}

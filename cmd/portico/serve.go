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
	"portico/metrics"
	"portico/policyeditor"
	"portico/scim"
	"portico/store"
	"portico/webhooks"
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

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if app.metrics != nil && cfg.MetricsAddr != "" && cfg.MetricsAddr != "off" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		msrv := &http.Server{Handler: metricsMux(app.metrics.Handler()), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics are served", "addr", mln.Addr().String())
	}
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
func newAuthServer(cfg *Config, st *store.Store, sealer *store.Sealer, now func() time.Time, log *slog.Logger, gate authserver.Gate, tm authserver.TokenMetrics) (*authserver.Server, error) {
	return authserver.New(authserver.Config{
		Metrics:        tm,
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
	metrics *metrics.Metrics // nil when PORTICO_METRICS_ADDR=off
	sealer  *store.Sealer
	closers []func()
}

// metricsMux serves only /metrics on the metrics listener.
func metricsMux(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return mux
}

// recorderObserver feeds the decision recorder's batches to the metrics
// (nil: none) and its denies to the decision.denied webhook.
type recorderObserver struct {
	m        *metrics.Metrics
	webhooks *webhooks.Dispatcher
}

func (r recorderObserver) DecisionsWritten(batch []store.Decision, took time.Duration, err error) {
	if r.m != nil {
		r.m.DecisionFlush(took)
		for _, d := range batch {
			r.m.Decision(d.Point, d.Action, d.PolicyID)
		}
	}
	if err == nil {
		r.webhooks.DecisionsDenied(context.Background(), batch)
	}
}

func (r recorderObserver) DecisionDropped() { r.m.DecisionDropped() }

// webhookClient sends webhooks and the audit stream through the guarded
// dialer; a redirect is an answer (a failure), never followed.
func webhookClient(cfg *Config) *http.Client {
	return webhooks.GuardedClient(cfg.UpstreamAllow)
}

// newDispatcher builds the webhook dispatcher and, when configured, the
// audit stream.
func newDispatcher(cfg *Config, st *store.Store, sealer *store.Sealer, c *cli, log *slog.Logger, m *metrics.Metrics) *webhooks.Dispatcher {
	d := &webhooks.Dispatcher{Store: st, Sealer: sealer, Log: log, Now: c.now, Client: webhookClient(cfg),
		EndingNotice: cfg.WebhookEndingNotice}
	if m != nil {
		d.Metrics = m
	}
	switch {
	case cfg.AuditStream == "stdout":
		d.Stream = &webhooks.WriterSink{W: c.stdout}
	case cfg.AuditStream != "":
		d.Stream = &webhooks.HTTPSink{URL: cfg.AuditStream, Secret: cfg.AuditStreamSecret, Client: webhookClient(cfg), Now: c.now}
	}
	return d
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
	if cfg.tracingEnabled() {
		shutdown, err := setupTracing(ctx, cfg, version)
		if err != nil {
			return fail(err)
		}
		a.closers = append(a.closers, shutdown) // runs after all but the store: every span is flushed
	}
	if cfg.MetricsAddr != "off" {
		a.metrics = metrics.New()
		a.metrics.DBPools(st.Pools())
	}

	sealer, err := cfg.sealer()
	if err != nil {
		return fail(err)
	}
	a.sealer = sealer
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
	dispatcher := newDispatcher(cfg, st, sealer, c, log, a.metrics)
	ropts := policyeditor.RecorderOptions{Log: log, Observer: recorderObserver{m: a.metrics, webhooks: dispatcher}}
	rec := policyeditor.NewRecorder(st, ropts)
	a.metrics.DecisionQueue(rec.QueueDepth)
	a.metrics.WebhookBacklog(func() (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return st.PendingWebhookDeliveries(ctx)
	})
	// Stopped before the recorder closes (closers run in reverse).
	a.closers = append(a.closers, dispatcher.Start(ctx))
	a.closers = append(a.closers, func() { rec.Close() })
	engine := policyeditor.NewEngine(st, rec)
	// No pacing: the store's data version is an atomic load, and the CLI's
	// changes reach it within ~10 ms (store.DataVersion).
	engine.Revalidate = 0

	pgate := &policyGate{st: st, engine: engine, loc: loc, log: log}
	// Counted per day in the database (the platform home) and, when on,
	// in the Prometheus metrics.
	act := &activity{m: a.metrics, st: st, now: c.now, log: log}
	a.closers = append(a.closers, act.start(30*time.Second))
	oauth, err := newAuthServer(cfg, st, sealer, c.now, log, authserver.Chain{authserver.DefaultGate{}, pgate}, act)
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
	hcfg := handlers.Config{
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
		Webhooks:       &webhooks.Service{Store: st, Sealer: sealer, Now: c.now},
	}
	hcfg.Metrics = act
	if a.metrics != nil && cfg.MetricsAddr == "" {
		hcfg.MetricsHandler = a.metrics.Handler()
	}
	e, err := handlers.New(ctx, hcfg)
	if err != nil {
		return fail(err)
	}
	a.handler = retryAfter(e, log)
	if cfg.tracingEnabled() {
		a.handler = traced(a.handler)
	}
	return a, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// soakFlags are the options of `portico bench soak`.
type soakFlags struct {
	addr     string
	clients  int
	duration time.Duration
	peakFor  time.Duration
	interval time.Duration
	fraction float64
	asJSON   bool
}

// soakSample is one interval of a soak run.
type soakSample struct {
	AtSeconds float64 `json:"at_s"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	HeapMB    float64 `json:"heap_mb"`
	RSSMB     float64 `json:"rss_mb"`
	FDs       int     `json:"fds"`
	DBMB      float64 `json:"db_mb"`
	WALMB     float64 `json:"wal_mb"`
	Decisions int64   `json:"decisions"`
}

// soakReport is the whole run.
type soakReport struct {
	PeakPerSecond float64      `json:"peak_per_s"`
	RatePerSecond float64      `json:"rate_per_s"`
	Clients       int          `json:"clients"`
	Samples       []soakSample `json:"samples"`
	Errors        int          `json:"errors"`
	FirstError    string       `json:"first_error,omitempty"`
	// Growth compares the last third of the run with the first (after the
	// first sample, which includes warm-up): heap, RSS and descriptors
	// should be flat.
	HeapGrowth, RSSGrowth float64
	FDGrowth              int
}

func (r soakReport) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "portico bench soak: peak %.0f tokens/s, steady %.0f tokens/s with %d clients\n", r.PeakPerSecond, r.RatePerSecond, r.Clients)
	fmt.Fprintf(&b, "%8s %8s %6s %8s %8s %8s %8s %5s %8s %8s %10s\n", "t", "requests", "errors", "p50 ms", "p99 ms", "heap MB", "RSS MB", "fds", "db MB", "wal MB", "decisions")
	for _, s := range r.Samples {
		fmt.Fprintf(&b, "%7.0fs %8d %6d %8.2f %8.2f %8.1f %8.1f %5d %8.1f %8.1f %10d\n", s.AtSeconds, s.Requests, s.Errors, s.P50ms, s.P99ms,
			s.HeapMB, s.RSSMB, s.FDs, s.DBMB, s.WALMB, s.Decisions)
	}
	fmt.Fprintf(&b, "errors: %d; heap %+.1f MB, RSS %+.1f MB, fds %+d (last third against first)\n", r.Errors, r.HeapGrowth, r.RSSGrowth, r.FDGrowth)
	if r.FirstError != "" {
		fmt.Fprintf(&b, "first error: %s\n", r.FirstError)
	}
	return b.String()
}

// runBenchSoak serves the portal on loopback over a temporary SQLite
// database with a machine-to-machine policy attached (so every token
// writes a decision), measures the peak client-credentials rate, then runs
// at --fraction of it for --duration, sampling latency, errors, memory,
// descriptors and the database's size every --interval. Errors make it
// fail. The portal and the load generator share the process, so memory and
// descriptors include the generator's (constant) share.
func runBenchSoak(ctx context.Context, c *cli, args []string) error {
	var f soakFlags
	fs := c.newFlags("bench soak")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "loopback address to serve the portal on")
	fs.IntVar(&f.clients, "clients", 32, "concurrent clients")
	fs.DurationVar(&f.duration, "duration", 10*time.Minute, "how long the steady phase runs")
	fs.DurationVar(&f.peakFor, "peak", 10*time.Second, "how long the peak is measured first")
	fs.DurationVar(&f.interval, "interval", 30*time.Second, "how often a sample is taken")
	fs.Float64Var(&f.fraction, "fraction", 0.5, "the steady rate as a fraction of the measured peak")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	var problems []string
	if err := requireLoopback(f.addr); err != nil {
		problems = append(problems, err.Error())
	}
	if f.clients < 1 || f.clients > 4096 {
		problems = append(problems, "--clients must be between 1 and 4096")
	}
	if f.duration <= 0 || f.duration > 24*time.Hour || f.peakFor <= 0 || f.peakFor > time.Hour {
		problems = append(problems, "--duration (at most 24h) and --peak (at most 1h) must be positive")
	}
	if f.interval <= 0 || f.interval > f.duration {
		problems = append(problems, "--interval must be positive and at most --duration")
	}
	if f.fraction <= 0 || f.fraction > 1 {
		problems = append(problems, "--fraction must be in (0, 1]")
	}
	if len(problems) > 0 {
		return errors.New("bench soak:\n  - " + strings.Join(problems, "\n  - "))
	}

	dir, err := os.MkdirTemp("", "portico-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "portico.db")
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if err := requireLoopback(ln.Addr().String()); err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	cfg := &Config{Addr: ln.Addr().String(), DB: db, Issuer: base, rawLogLevel: "warn"}
	if err := cfg.validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	setProcessLogger(log)
	quiet := *c
	quiet.stdout = io.Discard
	app, err := wire(ctx, &quiet, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()
	clientID, secret, _, err := benchClient(ctx, app, c.now)
	if err != nil {
		return fmt.Errorf("soak client: %w", err)
	}
	svc := &policyeditor.Service{Store: app.store}
	actor := store.Actor{Label: "soak"}
	pol, err := svc.Import(ctx, actor, []byte(`{"name":"Soak machines","kind":"machine_to_machine","rules":[],"default":"permit"}`))
	if err != nil {
		return err
	}
	if err := svc.Attach(ctx, actor, pol.Policy.ID, policyeditor.Target{Point: store.AttachM2M}); err != nil {
		return err
	}
	srv := &http.Server{Handler: app.handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()

	tr := &http.Transport{Proxy: nil, MaxIdleConns: f.clients, MaxIdleConnsPerHost: f.clients, MaxConnsPerHost: f.clients,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	user, pass := url.QueryEscape(clientID), url.QueryEscape(secret)
	tokens := load{Client: hc, Clients: f.clients, Duration: f.peakFor, Now: c.now,
		NewRequest: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", strings.NewReader("grant_type=client_credentials"))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(user, pass)
			return req, nil
		}}
	if err := tokens.once(ctx); err != nil {
		return fmt.Errorf("the portal refused the soak client: %w", err)
	}
	peak := tokens.run(ctx)
	if peak.PerSecond <= 0 {
		return fmt.Errorf("peak phase: no token issued (%s)", peak.FirstError)
	}
	rep := soakReport{PeakPerSecond: peak.PerSecond, RatePerSecond: peak.PerSecond * f.fraction, Clients: f.clients}

	// The steady phase is paced: a ticker hands out one ticket per request
	// at the rate, and the clients take them.
	tickets := make(chan struct{}, f.clients)
	every := time.Duration(float64(time.Second) / rep.RatePerSecond)
	runCtx, cancel := context.WithTimeout(ctx, f.duration)
	defer cancel()
	go func() {
		// Tickets due are counted from the start, so a late tick (a busy
		// machine) hands out what it owes instead of losing the rate.
		t := time.NewTicker(max(every, time.Millisecond))
		defer t.Stop()
		began, sent := time.Now(), 0
		for {
			select {
			case <-runCtx.Done():
				close(tickets)
				return
			case now := <-t.C:
				due := int(now.Sub(began).Seconds() * rep.RatePerSecond)
				for ; sent < due; sent++ {
					select {
					case tickets <- struct{}{}:
					default: // every client is busy: the server is behind, shown as latency
					}
				}
			}
		}
	}()
	var mu sync.Mutex
	var window []time.Duration
	var windowErrors int
	var wg sync.WaitGroup
	for range f.clients {
		wg.Go(func() {
			for range tickets {
				t0 := c.now()
				err := tokens.once(runCtx)
				d := c.now().Sub(t0)
				mu.Lock()
				switch {
				case err == nil:
					window = append(window, d)
				case runCtx.Err() != nil: // the run ended under this request
				default:
					windowErrors++
					if rep.FirstError == "" {
						rep.FirstError = err.Error()
					}
				}
				mu.Unlock()
			}
		})
	}
	start := c.now()
	sample := func() {
		mu.Lock()
		lat, errs := window, windowErrors
		window, windowErrors = nil, 0
		mu.Unlock()
		slices.Sort(lat)
		s := soakSample{AtSeconds: c.now().Sub(start).Seconds(), Requests: len(lat) + errs, Errors: errs,
			P50ms: ms(percentile(lat, 50)), P99ms: ms(percentile(lat, 99))}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.HeapMB = float64(m.HeapInuse) / (1 << 20)
		s.RSSMB, s.FDs = processRSSMB(), openFDs()
		s.DBMB, s.WALMB = fileMB(db), fileMB(db+"-wal")
		if n, err := app.store.CountDecisions(ctx); err == nil {
			s.Decisions = n
		}
		rep.Errors += errs
		rep.Samples = append(rep.Samples, s)
		fmt.Fprintf(c.stderr, "soak %5.0fs: %d requests, %d errors, p99 %.2f ms, heap %.1f MB, RSS %.1f MB, %d fds, db %.1f MB, wal %.1f MB\n",
			s.AtSeconds, s.Requests, s.Errors, s.P99ms, s.HeapMB, s.RSSMB, s.FDs, s.DBMB, s.WALMB)
	}
	tick := time.NewTicker(f.interval)
	for done := false; !done; {
		select {
		case <-tick.C:
			sample()
		case <-runCtx.Done():
			done = true
		}
	}
	tick.Stop()
	wg.Wait()
	mu.Lock()
	rest := len(window) + windowErrors
	mu.Unlock()
	if rest > 0 || len(rep.Samples) == 0 {
		sample()
	}
	if n := len(rep.Samples); n >= 4 {
		first, last := rep.Samples[1:1+n/3], rep.Samples[n-n/3:]
		avg := func(ss []soakSample, v func(soakSample) float64) float64 {
			t := 0.0
			for _, s := range ss {
				t += v(s)
			}
			return t / float64(len(ss))
		}
		rep.HeapGrowth = avg(last, func(s soakSample) float64 { return s.HeapMB }) - avg(first, func(s soakSample) float64 { return s.HeapMB })
		rep.RSSGrowth = avg(last, func(s soakSample) float64 { return s.RSSMB }) - avg(first, func(s soakSample) float64 { return s.RSSMB })
		rep.FDGrowth = int(avg(last, func(s soakSample) float64 { return float64(s.FDs) }) - avg(first, func(s soakSample) float64 { return float64(s.FDs) }))
	}
	if err := c.output(f.asJSON, rep, rep.human()); err != nil {
		return err
	}
	if rep.Errors > 0 {
		return fmt.Errorf("bench soak: %d requests failed", rep.Errors)
	}
	return ctx.Err()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// processRSSMB is the resident set size from /proc (0 where there is none).
func processRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// openFDs counts the process's open descriptors (0 where /proc is absent).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

func fileMB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / (1 << 20)
}

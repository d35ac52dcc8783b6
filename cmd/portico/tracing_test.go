package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestTracesReachAnOTLPReceiver: with --otel-traces, a request's server
// span, named after its route template, arrives at an OTLP/HTTP receiver
// (an httptest server standing in for the collector) in protobuf.
func TestTracesReachAnOTLPReceiver(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rd io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			rd = zr
		}
		b, _ := io.ReadAll(rd)
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig(append(dbArgs(t, nil), "--issuer", "http://127.0.0.1:1", "--otel-traces",
		"--otel-endpoint", collector.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(context.Background(), c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/login: %d", rec.Code)
	}
	a.close() // flushes the batch

	mu.Lock()
	defer mu.Unlock()
	all := bytes.Join(bodies, nil)
	for _, want := range []string{"GET /login", "portico", "http.route"} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("no %q in what the collector received (%d requests)", want, len(bodies))
		}
	}
}

// TestTracesOffByDefault: without the flag nothing wraps the handler.
func TestTracesOffByDefault(t *testing.T) {
	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig(append(dbArgs(t, nil), "--issuer", "http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.tracingEnabled() {
		t.Fatal("traces are on by default")
	}
	c.getenv = func(k string) string {
		if k == "OTEL_TRACES_EXPORTER" {
			return "otlp"
		}
		return ""
	}
	if cfg, err = c.parseConfig(append(dbArgs(t, nil), "--issuer", "http://127.0.0.1:1")); err != nil || !cfg.tracingEnabled() {
		t.Fatalf("OTEL_TRACES_EXPORTER=otlp does not turn traces on (%v)", err)
	}
}

package main

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"portico/handlers"
)

// retryAfter gives every 503 a Retry-After header (RFC 9110 §10.2.3) if the
// handler set none: the authorization server's token endpoint answers 503
// temporarily_unavailable through its OAuth library, which sets no header.
// It also logs, at most once a second, how many requests were answered 503,
// so an outage is visible in the log however many requests it refuses.
func retryAfter(next http.Handler, log *slog.Logger) http.Handler {
	var mu sync.Mutex
	var last time.Time
	var count int
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &retryWriter{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		if !rw.unavailable {
			return
		}
		mu.Lock()
		count++
		if now := time.Now(); now.Sub(last) >= time.Second {
			log.Warn("service unavailable: requests answered 503 with Retry-After", "count", count, "last_path", r.URL.Path)
			last, count = now, 0
		}
		mu.Unlock()
	})
}

type retryWriter struct {
	http.ResponseWriter
	unavailable bool
}

func (w *retryWriter) WriteHeader(status int) {
	if status == http.StatusServiceUnavailable {
		w.unavailable = true
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", handlers.RetryAfterSeconds)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *retryWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *retryWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *retryWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"portico/metrics"
)

// TestLabelsStayBounded: unknown methods and unmatched routes collapse to
// one label value each, and a nil *Metrics counts nothing without panicking.
func TestLabelsStayBounded(t *testing.T) {
	var none *metrics.Metrics
	none.Request("/x", "GET", 200, time.Millisecond)
	none.TokenIssued("client_credentials", "service")
	none.DecisionQueue(func() int { return 1 })

	m := metrics.New()
	for _, method := range []string{"BREW", "PROPFIND", "X-" + strings.Repeat("A", 100)} {
		m.Request("", method, 404, time.Millisecond)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if !strings.Contains(body, `portico_http_requests_total{code="404",method="other",route="unmatched"} 3`) {
		t.Errorf("unknown methods and routes were not collapsed:\n%s", body)
	}
	if strings.Contains(body, "BREW") || strings.Contains(body, "PROPFIND") {
		t.Error("a raw method became a label value")
	}
}

// TestRequestsCountedPerSeries: the series kept per label set count every
// request, from many goroutines, each in its own series.
func TestRequestsCountedPerSeries(t *testing.T) {
	m := metrics.New()
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 100 {
				code := 200
				if i%4 == 0 {
					code = 401
				}
				m.Request("/introspect", "POST", code, time.Millisecond)
			}
		}()
	}
	for range 8 {
		<-done
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`portico_http_requests_total{code="200",method="POST",route="/introspect"} 600`,
		`portico_http_requests_total{code="401",method="POST",route="/introspect"} 200`,
		`portico_http_request_duration_seconds_count{code="200",method="POST",route="/introspect"} 600`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s in:\n%s", want, body)
		}
	}
}

// Package metrics is Portico's Prometheus instrumentation: one registry per
// server with every series the operator's dashboards read, exposed at
// /metrics by promhttp. It uses github.com/prometheus/client_golang, the
// reference client, rather than hand-written exposition text.
//
// /metrics may be read by anyone who can reach it (put it on a separate
// listen address, PORTICO_METRICS_ADDR, to keep it off the public port), so
// no label ever carries a secret, an email, a user, an organization or a
// raw path: routes are echo route templates, clients are reduced to their
// type, policies to their ID (bounded by what admins create). Every label
// value comes from a small fixed set or from the platform's own
// configuration, so the number of series stays bounded.
//
// The package stands alone (it imports nothing from Portico): consumers
// declare the one-method interfaces they need and cmd/portico passes a
// *Metrics. Every method is safe on a nil *Metrics.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Portico's collectors.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	tokens          *prometheus.CounterVec
	signIns         *prometheus.CounterVec
	lockouts        *prometheus.CounterVec
	decisions       *prometheus.CounterVec
	decisionFlush   prometheus.Histogram
	decisionDropped prometheus.Counter
	webhooks        *prometheus.CounterVec
	webhookDuration prometheus.Histogram
	auditStreamed   *prometheus.CounterVec

	// series keeps each request series' counter and histogram (requestKey
	// -> requestSeries): looking them up by label values hashes and
	// validates the values twice on every request. Bounded like the
	// series themselves.
	series sync.Map
}

type requestKey struct {
	route, method string
	code          int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// New builds the collectors on a fresh registry, with Go runtime and
// process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_http_requests_total",
			Help: "HTTP requests by route template, method and status code."}, []string{"route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "portico_http_request_duration_seconds",
			Help: "HTTP request latency by route template, method and status code.", Buckets: prometheus.DefBuckets},
			[]string{"route", "method", "code"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_tokens_issued_total",
			Help: "Access tokens issued by grant type and client type."}, []string{"grant", "client_type"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_signins_total",
			Help: "Portal sign-in attempts by method (pwd, fed, otp, hwk…) and result (success, failure, locked, denied)."},
			[]string{"method", "result"}),
		lockouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_lockouts_total",
			Help: "Attempts that locked a throttle key or were refused by a lock, by factor (password, second_factor, client_auth)."},
			[]string{"factor"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_policy_decisions_total",
			Help: "Policy decisions by point, action and policy ID (empty when no policy applied)."},
			[]string{"point", "action", "policy"}),
		decisionFlush: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "portico_decision_log_flush_duration_seconds",
			Help: "Time to write one batch of the decision log.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		decisionDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_decision_log_dropped_total",
			Help: "Decisions not logged because the queue was full."}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_webhook_deliveries_total",
			Help: "Outgoing webhook delivery attempts by event type and result (delivered, failed, gave_up)."},
			[]string{"event", "result"}),
		webhookDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "portico_webhook_delivery_duration_seconds",
			Help: "Time of one outgoing webhook delivery attempt.", Buckets: prometheus.DefBuckets}),
		auditStreamed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_audit_stream_events_total",
			Help: "Audit events streamed to the configured sink, by result (sent, failed)."}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.requestDuration, m.tokens, m.signIns, m.lockouts, m.decisions,
		m.decisionFlush, m.decisionDropped, m.webhooks, m.webhookDuration, m.auditStreamed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that alerts watch exist from the start, at zero.
	for _, f := range []string{"password", "second_factor", "client_auth"} {
		m.lockouts.WithLabelValues(f)
	}
	for _, r := range []string{"sent", "failed"} {
		m.auditStreamed.WithLabelValues(r)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the underlying registry, for collectors added at wiring.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request counts one HTTP request. route must be a route template
// ("/orgs/:id"), never the raw path; unmatched requests pass "".
func (m *Metrics) Request(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	method = boundedMethod(method)
	k := requestKey{route, method, code}
	v, ok := m.series.Load(k)
	if !ok {
		c := strconv.Itoa(code)
		v, _ = m.series.LoadOrStore(k, requestSeries{m.requests.WithLabelValues(route, method, c),
			m.requestDuration.WithLabelValues(route, method, c)})
	}
	rs := v.(requestSeries)
	rs.count.Inc()
	rs.duration.Observe(d.Seconds())
}

func boundedMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// TokenIssued counts an access token issued by grant ("authorization_code",
// "refresh_token", "client_credentials", …) to a client of clientType.
func (m *Metrics) TokenIssued(grant, clientType string) {
	if m == nil {
		return
	}
	m.tokens.WithLabelValues(grant, clientType).Inc()
}

// SignIn counts a sign-in attempt.
func (m *Metrics) SignIn(method, result string) {
	if m == nil {
		return
	}
	m.signIns.WithLabelValues(method, result).Inc()
}

// Lockout counts an attempt that a lock refused or that placed one.
func (m *Metrics) Lockout(factor string) {
	if m == nil {
		return
	}
	m.lockouts.WithLabelValues(factor).Inc()
}

// Decision counts a policy decision.
func (m *Metrics) Decision(point, action, policyID string) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(point, action, policyID).Inc()
}

// DecisionFlush observes one decision-log batch write.
func (m *Metrics) DecisionFlush(d time.Duration) {
	if m == nil {
		return
	}
	m.decisionFlush.Observe(d.Seconds())
}

// DecisionDropped counts a decision the full queue dropped.
func (m *Metrics) DecisionDropped() {
	if m == nil {
		return
	}
	m.decisionDropped.Inc()
}

// DecisionQueue exposes the decision log's queue depth, read at scrape time.
func (m *Metrics) DecisionQueue(depth func() int) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portico_decision_log_queue_depth",
		Help: "Decisions waiting to be written to the decision log."}, func() float64 { return float64(depth()) }))
}

// WebhookDelivery counts one outgoing webhook delivery attempt.
func (m *Metrics) WebhookDelivery(event, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(event, result).Inc()
	m.webhookDuration.Observe(d.Seconds())
}

// WebhookBacklog exposes the deliveries waiting in the database (all
// replicas), read at scrape time; an error reads as -1.
func (m *Metrics) WebhookBacklog(pending func() (int, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portico_webhook_queue_depth",
		Help: "Webhook deliveries waiting to be sent or retried (all replicas; -1 when the database did not answer)."},
		func() float64 {
			n, err := pending()
			if err != nil {
				return -1
			}
			return float64(n)
		}))
}

// AuditStreamed counts audit events sent to the stream sink.
func (m *Metrics) AuditStreamed(result string) {
	if m == nil {
		return
	}
	m.auditStreamed.WithLabelValues(result).Inc()
}

// DBPools exposes database/sql pool statistics (open, in use, idle, waits)
// for each named pool: the standard go_sql_* series with a db_name label.
func (m *Metrics) DBPools(pools map[string]*sql.DB) {
	if m == nil {
		return
	}
	for name, db := range pools {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
}

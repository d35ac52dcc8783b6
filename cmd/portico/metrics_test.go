package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"portico/handlers/handlerstest"
	"portico/partners"
	"portico/store"
	"portico/webhooks"
)

var demoClient = regexp.MustCompile(`client_id:\s+(\S+)\s+client_secret:\s+(\S+)`)

// TestMetricsAfterRealTraffic runs the whole server as serve wires it, sends
// it real traffic (sign-ins that fail and succeed, a launch the policy
// decides, a client_credentials token) and scrapes /metrics for every
// series the operator's dashboard reads; labels carry route templates,
// never raw paths or emails.
func TestMetricsAfterRealTraffic(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig(append(dbArgs(t, nil), "--issuer", base, "--demo", "--upstream-allow", "127.0.0.1/32"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(context.Background(), c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.handler
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.close() })
	m := demoClient.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("demo printed no client:\n%s", out.String())
	}

	// A webhook receiver gets organization.created.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer receiver.Close()
	ctx := context.Background()
	hooks := &webhooks.Service{Store: a.store, Sealer: a.sealer}
	if _, _, err := hooks.CreateSubscription(ctx, store.Actor{Label: "cli"}, webhooks.SubscriptionInput{URL: receiver.URL,
		Events: []string{webhooks.OrgCreated}}); err != nil {
		t.Fatal(err)
	}
	slug, name := "globex", "Globex"
	if _, err := (&partners.Service{Store: a.store}).CreateOrg(ctx, store.Actor{Label: "cli"}, partners.OrgInput{Slug: &slug, Name: &name}); err != nil {
		t.Fatal(err)
	}

	bad := handlerstest.ClientFor(t, base)
	if r := bad.Post("/login", url.Values{"email": {"dev@acme.example"}, "password": {"wrong"}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", r.StatusCode)
	}
	dev := handlerstest.ClientFor(t, base)
	dev.Login("dev@acme.example", demoPassword)
	acme, err := a.store.OrganizationBySlug(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	apps, err := a.store.Clients(ctx, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	wiki := ""
	for _, app := range apps {
		if app.Name == "Team wiki" {
			wiki = app.ClientID
		}
	}
	dev.Get("/launch/" + url.PathEscape(wiki)) // a decision of the wiki's policy
	dev.Get("/no/such/page/ann@acme.example")

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"inventory:read"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(m[1]), url.QueryEscape(m[2]))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client_credentials: status %d", resp.StatusCode)
	}

	var body string
	want := []string{
		`portico_http_requests_total{code="200",method="POST",route="/token"}`,
		`portico_http_requests_total{code="401",method="POST",route="/login"}`,
		`portico_http_requests_total{code="404",method="GET",route="unmatched"}`,
		`portico_http_request_duration_seconds_bucket{code="200",method="POST",route="/token",le="+Inf"}`,
		`portico_tokens_issued_total{client_type="service",grant="client_credentials"} 1`,
		`portico_signins_total{method="pwd",result="failure"} 1`,
		`portico_signins_total{method="pwd",result="success"} 1`,
		`portico_policy_decisions_total{action=`,
		`portico_decision_log_queue_depth `,
		`portico_decision_log_flush_duration_seconds_count `,
		`go_sql_open_connections{db_name=`,
		`portico_lockouts_total{factor="password"} 0`,
		`portico_lockouts_total{factor="client_auth"} 0`,
		`portico_webhook_deliveries_total{event="organization.created",result="delivered"} `,
		`portico_webhook_queue_depth 0`,
	}
	// The decision log is written in batches: wait for the flush.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		body = dev.Get("/metrics").Body
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s:\n%s", missing, body)
		}
	}
	if !regexp.MustCompile(`portico_policy_decisions_total\{action="(permit|challenge|deny)",point="launch",policy="[^"]+"\}`).MatchString(body) {
		t.Errorf("no launch decision by a named policy:\n%s", grepLines(body, "portico_policy_decisions_total"))
	}
	// Every series the Grafana dashboard reads exists.
	dash, err := os.ReadFile(filepath.Join("..", "..", "examples", "grafana", "portico-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`(?:portico|go_sql)_[a-z_]+`).FindAllString(string(dash), -1) {
		if name == "portico_overview" {
			continue
		}
		family := regexp.MustCompile(`_(bucket|count|sum)$`).ReplaceAllString(name, "")
		if !strings.Contains(body, "# TYPE "+family+" ") {
			t.Errorf("the dashboard reads %s, which /metrics does not have", name)
		}
	}
	for _, leak := range []string{"acme.example", "/no/such", wiki, m[2]} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics carries %q", leak)
		}
	}
}

// TestMetricsOnTheirOwnListener: with PORTICO_METRICS_ADDR set, /metrics
// is served there and not on the public address; "off" serves them nowhere.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	for _, tc := range []struct{ addr, main string }{{"127.0.0.1:0", "404"}, {"off", "404"}, {"", "200"}} {
		cfg, err := c.parseConfig(append(dbArgs(t, nil), "--issuer", "http://127.0.0.1:1", "--metrics-addr", tc.addr))
		if err != nil {
			t.Fatal(err)
		}
		a, err := wire(context.Background(), c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if got := strconv.Itoa(rec.Code); got != tc.main {
			t.Errorf("metrics-addr %q: /metrics on the main listener answers %s, want %s", tc.addr, got, tc.main)
		}
		if tc.addr == "127.0.0.1:0" {
			rec := httptest.NewRecorder()
			metricsMux(a.metrics.Handler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "go_sql_") {
				t.Errorf("metrics listener: %d", rec.Code)
			}
		}
		if tc.addr == "off" && a.metrics != nil {
			t.Error("metrics-addr off still builds metrics")
		}
		a.close()
	}
}

func grepLines(body, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestOperationsConfigChecked: bad operations settings stop start-up with
// a message naming each.
func TestOperationsConfigChecked(t *testing.T) {
	c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	_, err := c.parseConfig(append(dbArgs(t, nil), "--metrics-addr", "nonsense", "--audit-stream", "ftp://siem.example.com",
		"--audit-stream-secret", "plain", "--webhook-ending-notice", "0"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"PORTICO_METRICS_ADDR", "PORTICO_AUDIT_STREAM ", "PORTICO_AUDIT_STREAM_SECRET", "PORTICO_WEBHOOK_ENDING_NOTICE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %s in %v", want, err)
		}
	}
	for _, ok := range []string{"stdout", "https://siem.example.com/in", "http://127.0.0.1:9/in"} {
		if _, err := c.parseConfig(append(dbArgs(t, nil), "--audit-stream", ok)); err != nil {
			t.Errorf("--audit-stream %s: %v", ok, err)
		}
	}
}

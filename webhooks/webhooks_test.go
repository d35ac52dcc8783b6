package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/metrics"
	"portico/netguard"
	"portico/store"
	"portico/store/storetest"
	"portico/webhooks"
)

type received struct {
	header http.Header
	body   []byte
}

// receiver answers fail times with 500, then 204, and keeps every request.
type receiver struct {
	mu   sync.Mutex
	fail int
	got  []received
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, received{req.Header.Clone(), b})
	if len(r.got) <= r.fail {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// verifyIndependently checks a Standard Webhooks signature from the
// specification, without the package's own Verify.
func verifyIndependently(t *testing.T, secret string, h http.Header, body []byte) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if h.Get("webhook-signature") != want {
		t.Fatalf("signature %q, want %q", h.Get("webhook-signature"), want)
	}
	ts, _ := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if d := time.Since(time.Unix(ts, 0)); d < -time.Minute || d > time.Minute {
		t.Fatalf("timestamp %s is %s off", h.Get("webhook-timestamp"), d)
	}
}

func setup(t *testing.T) (*store.Store, *webhooks.Service, *store.Sealer) {
	st := storetest.Open(t)
	key := make([]byte, 32)
	key[0] = 1
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return st, &webhooks.Service{Store: st, Sealer: sealer}, sealer
}

func dispatcher(st *store.Store, sealer *store.Sealer) *webhooks.Dispatcher {
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	return &webhooks.Dispatcher{Store: st, Sealer: sealer, Backoff: 20 * time.Millisecond,
		Client: netguard.Guard{Allow: loop}.Client(netguard.ClientOptions{Timeout: 5 * time.Second}),
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// TestDeliveryRetriedAfterTwoFailures: a suspension committed with its
// audit event reaches the receiver signed; the receiver fails twice and
// the third attempt, after backoff, is delivered with the same webhook-id.
func TestDeliveryRetriedAfterTwoFailures(t *testing.T) {
	ctx := context.Background()
	st, svc, sealer := setup(t)
	rcv := &receiver{fail: 2}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	sub, secret, err := svc.CreateSubscription(ctx, store.Actor{Label: "cli"}, webhooks.SubscriptionInput{URL: srv.URL + "/hook",
		Events: []string{webhooks.OrgSuspended}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || strings.Contains(string(sub.SecretSealed), secret) {
		t.Fatalf("secret %q; stored sealed %q", secret, sub.SecretSealed)
	}
	org := store.Organization{Slug: "acme", Name: "Acme", Status: store.OrgActive}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *store.Store) error {
		before, after, err := tx.UpdateOrganization(ctx, org.ID, func(o *store.Organization) error { o.Status = store.OrgSuspended; return nil })
		if err != nil {
			return err
		}
		return tx.Audit(ctx, store.Actor{Label: "cli"}.Event(org.ID, "org.update", "organization", org.ID), before, after)
	})
	if err != nil {
		t.Fatal(err)
	}

	d := dispatcher(st, sealer)
	m := metrics.New()
	d.Metrics = m
	for deadline := time.Now().Add(10 * time.Second); len(rcv.requests()) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests after 10s", len(rcv.requests()))
		}
		d.RunOnce(ctx)
	}
	d.RunOnce(ctx)
	got := rcv.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3 (two failures, one success)", len(got))
	}
	for _, r := range got {
		verifyIndependently(t, secret, r.header, r.body)
		if r.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
			t.Errorf("webhook-id changed between retries: %q, %q", got[0].header.Get("webhook-id"), r.header.Get("webhook-id"))
		}
	}
	var ev webhooks.Event
	if err := json.Unmarshal(got[2].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != webhooks.OrgSuspended || ev.Data["org_id"] != org.ID {
		t.Errorf("event %+v", ev)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`portico_webhook_deliveries_total{event="organization.suspended",result="failed"} 2`,
		`portico_webhook_deliveries_total{event="organization.suspended",result="delivered"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	log, err := st.WebhookDeliveries(ctx, sub.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Status != store.DeliveryDelivered || log[0].Attempts != 3 || log[0].LastStatus != 204 {
		t.Fatalf("delivery log %+v", log)
	}

	// Redelivery sends it once more, with the same id.
	if err := svc.Redeliver(ctx, store.Actor{Label: "cli"}, log[0].ID); err != nil {
		t.Fatal(err)
	}
	d.RunOnce(ctx)
	d.RunOnce(ctx)
	if got := rcv.requests(); len(got) != 4 || got[3].header.Get("webhook-id") != log[0].ID {
		t.Fatalf("after redelivery: %d requests", len(got))
	}
}

// TestOneReplicaDelivers: several dispatchers on one database send each
// delivery once.
func TestOneReplicaDelivers(t *testing.T) {
	ctx := context.Background()
	st, svc, sealer := setup(t)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	if _, _, err := svc.CreateSubscription(ctx, store.Actor{Label: "cli"}, webhooks.SubscriptionInput{URL: srv.URL,
		Events: []string{webhooks.OrgCreated}}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		org := store.Organization{Slug: "org" + strconv.Itoa(i), Name: "Org", Status: store.OrgActive}
		err := st.InTx(ctx, func(tx *store.Store) error {
			if err := tx.CreateOrganization(ctx, &org); err != nil {
				return err
			}
			return tx.Audit(ctx, store.Actor{Label: "cli"}.Event(org.ID, "org.create", "organization", org.ID), nil, org)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := dispatcher(st, sealer)
			for range 5 {
				d.RunOnce(ctx)
			}
		}()
	}
	wg.Wait()
	ids := map[string]int{}
	for _, r := range rcv.requests() {
		ids[r.header.Get("webhook-id")]++
	}
	if len(ids) != 5 {
		t.Fatalf("%d distinct deliveries, want 5: %v", len(ids), ids)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := webhooks.NewSecret()
	body := []byte(`{"a":1}`)
	now := time.Now()
	h := http.Header{}
	if err := webhooks.SetHeaders(h, secret, "msg_1", now, body); err != nil {
		t.Fatal(err)
	}
	if id, err := webhooks.Verify(secret, h, body, now, 5*time.Minute); err != nil || id != "msg_1" {
		t.Fatalf("valid: %q %v", id, err)
	}
	if _, err := webhooks.Verify(secret, h, []byte(`{"a":2}`), now, 5*time.Minute); err == nil {
		t.Error("a changed body verified")
	}
	if _, err := webhooks.Verify(webhooks.NewSecret(), h, body, now, 5*time.Minute); err == nil {
		t.Error("another secret verified")
	}
	if _, err := webhooks.Verify(secret, h, body, now.Add(6*time.Minute), 5*time.Minute); err == nil {
		t.Error("a stale timestamp verified")
	}
	h.Del("webhook-signature")
	if _, err := webhooks.Verify(secret, h, body, now, 5*time.Minute); err == nil {
		t.Error("no signature verified")
	}
}

func TestSubscriptionInputChecked(t *testing.T) {
	ctx := context.Background()
	_, svc, _ := setup(t)
	for name, in := range map[string]webhooks.SubscriptionInput{
		"http elsewhere": {URL: "http://example.com/h", Events: []string{webhooks.OrgCreated}},
		"no events":      {URL: "https://example.com/h"},
		"unknown event":  {URL: "https://example.com/h", Events: []string{"org.secret"}},
		"user info":      {URL: "https://u:p@example.com/h", Events: []string{webhooks.OrgCreated}},
		"sample":         {URL: "https://example.com/h", Events: []string{webhooks.DecisionDenied}, DenySamplePercent: 101},
	} {
		if _, _, err := svc.CreateSubscription(ctx, store.Actor{Label: "cli"}, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	subs, _ := svc.Store.WebhookSubscriptions(ctx)
	if len(subs) != 0 {
		t.Errorf("%d subscriptions stored from bad input", len(subs))
	}
}

// TestAuditStream: every audit event reaches the stream once as a JSON
// line, signed when a secret is set; a failing sink keeps the events in
// the outbox until it answers.
func TestAuditStream(t *testing.T) {
	ctx := context.Background()
	st, _, sealer := setup(t)
	var mu sync.Mutex
	var lines []string
	var sigOK bool
	failing := true
	secret := webhooks.NewSecret()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if failing {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, err := webhooks.Verify(secret, r.Header, b, time.Now(), time.Minute)
		sigOK = err == nil && r.Header.Get("Content-Type") == "application/x-ndjson"
		lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}))
	defer srv.Close()
	d := dispatcher(st, sealer)
	d.Stream = &webhooks.HTTPSink{URL: srv.URL, Secret: secret, Client: d.Client}
	for i := range 3 {
		if err := st.Audit(ctx, store.Actor{Label: "cli"}.Event("", "plan.create", "plan", "p"+strconv.Itoa(i)), nil, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	d.RunOnce(ctx) // the sink fails: nothing is lost
	mu.Lock()
	failing = false
	mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	// The failed batch is leased for a minute; a dispatcher whose clock is
	// past the lease takes it again.
	d.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	d.RunOnce(ctx)
	d.RunOnce(ctx)
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 3 || !sigOK {
		t.Fatalf("stream got %d lines (signature ok %v): %q", len(lines), sigOK, lines)
	}
	targets := map[string]bool{}
	for _, l := range lines {
		var line webhooks.AuditLine
		if err := json.Unmarshal([]byte(l), &line); err != nil || line.Action != "plan.create" {
			t.Errorf("line %q (%v)", l, err)
		}
		targets[line.TargetID] = true
	}
	if !targets["p0"] || !targets["p1"] || !targets["p2"] {
		t.Errorf("streamed targets %v, want p0, p1, p2 once each", targets)
	}

	// stdout: JSON lines on the writer.
	var buf strings.Builder
	ws := &webhooks.WriterSink{W: &buf}
	if err := ws.Send(ctx, []store.AuditEvent{{ID: "a1", Action: "org.update", Actor: "cli", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "\n") || !strings.Contains(buf.String(), `"action":"org.update"`) {
		t.Errorf("stdout sink wrote %q", buf.String())
	}
}

// TestPartnershipAndDenyEvents: partnership.ending and partnership.ended
// are queued once per organization and end date however many replicas
// scan; decision.denied follows each subscription's sample and never
// carries permits.
func TestPartnershipAndDenyEvents(t *testing.T) {
	ctx := context.Background()
	st, svc, sealer := setup(t)
	all, _, err := svc.CreateSubscription(ctx, store.Actor{Label: "cli"}, webhooks.SubscriptionInput{URL: "https://a.example/h",
		Events: []string{webhooks.PartnershipEnds, webhooks.PartnershipEnded, webhooks.DecisionDenied}})
	if err != nil {
		t.Fatal(err)
	}
	few, _, err := svc.CreateSubscription(ctx, store.Actor{Label: "cli"}, webhooks.SubscriptionInput{URL: "https://b.example/h",
		Events: []string{webhooks.DecisionDenied}, DenySamplePercent: 10})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for slug, until := range map[string]time.Time{"ending": now.Add(72 * time.Hour), "ended": now.Add(-time.Hour),
		"later": now.Add(60 * 24 * time.Hour)} {
		o := store.Organization{Slug: slug, Name: slug, Status: store.OrgActive, ValidUntil: until}
		if err := st.CreateOrganization(ctx, &o); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // two replicas, each scanning
		d := dispatcher(st, sealer)
		d.Client = &http.Client{Transport: refuseAll{}} // nothing is sent in this test
		d.RunOnce(ctx)
	}
	count := func(sub, event string) int {
		ds, err := st.WebhookDeliveries(ctx, sub, "", 500)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range ds {
			if d.Event == event {
				n++
			}
		}
		return n
	}
	if n := count(all.ID, webhooks.PartnershipEnds); n != 1 {
		t.Errorf("%d partnership.ending deliveries, want 1 (the 60-day one is not due)", n)
	}
	if n := count(all.ID, webhooks.PartnershipEnded); n != 1 {
		t.Errorf("%d partnership.ended deliveries, want 1", n)
	}

	var batch []store.Decision
	for i := range 300 {
		at := now.Add(time.Duration(i) * time.Millisecond)
		action := "deny"
		if i%3 == 0 {
			action = "permit"
		}
		batch = append(batch, store.Decision{ID: store.NewDecisionID(at), At: at, Point: "launch", Action: action, Reason: "r"})
	}
	d := dispatcher(st, sealer)
	d.DecisionsDenied(ctx, batch)
	d.DecisionsDenied(ctx, batch) // a repeat queues nothing new
	if n := count(all.ID, webhooks.DecisionDenied); n != 200 {
		t.Errorf("the 100%% subscription got %d denies, want 200", n)
	}
	if n := count(few.ID, webhooks.DecisionDenied); n < 5 || n > 45 {
		t.Errorf("the 10%% subscription got %d of 200 denies", n)
	}
}

type refuseAll struct{}

func (refuseAll) RoundTrip(*http.Request) (*http.Response, error) { return nil, http.ErrHandlerTimeout }

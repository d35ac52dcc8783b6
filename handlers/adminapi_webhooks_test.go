package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"portico/netguard"
	"portico/store"
	"portico/webhooks"
)

// received is what a webhook receiver on 127.0.0.1 was sent.
type received struct {
	mu   sync.Mutex
	reqs []receivedReq
}

type receivedReq struct {
	header http.Header
	body   []byte
}

func (r *received) all() []receivedReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedReq(nil), r.reqs...)
}

func webhookReceiver(t *testing.T) (*httptest.Server, *received) {
	t.Helper()
	got := &received{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.mu.Lock()
		got.reqs = append(got.reqs, receivedReq{header: r.Header.Clone(), body: b})
		got.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// dispatchOnce runs one round of a fresh dispatcher (a fresh one: the
// dispatcher caches the subscriptions for a second), as serve runs it, with
// a client that may reach 127.0.0.1 only.
func (w *world) dispatchOnce(t *testing.T) {
	t.Helper()
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	d := &webhooks.Dispatcher{Store: w.h.Store, Sealer: w.h.Config.SignIn.Sealer, Now: w.clock.Now,
		Client: netguard.Guard{Allow: loop}.Client(netguard.ClientOptions{Timeout: 5 * time.Second}),
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil))}
	d.RunOnce(context.Background())
}

func apiItems(t *testing.T, a apiAnswer) []map[string]any {
	t.Helper()
	raw, ok := a.Body["items"].([]any)
	if !ok {
		t.Fatalf("no items: %s", a.Raw)
	}
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

// TestAdminAPIWebhookDeliveries: a webhook made through the API receives
// an organization made through the API, signed with the secret the create
// answer showed (and no other answer shows); the delivery log lists it
// with the CLI's filters, a redelivery sends it again, and deleting the
// subscription takes its log with it.
func TestAdminAPIWebhookDeliveries(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, rec := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	call := func(method, path string, body any, status int) apiAnswer {
		t.Helper()
		return must(t, w.api(t, tok, method, path, body), status, method+" "+path)
	}
	// The world's own setup is in the outbox: send it nowhere first.
	w.dispatchOnce(t)
	srv, got := webhookReceiver(t)

	wantProblem(t, w.api(t, tok, "POST", "/webhooks", map[string]any{"url": "http://crm.example/hook", "events": []string{"organization.created"}}),
		http.StatusUnprocessableEntity)
	wantProblem(t, w.api(t, tok, "POST", "/webhooks", map[string]any{"url": srv.URL + "/hook", "events": []string{"nope"}}),
		http.StatusUnprocessableEntity)
	if subs, _ := w.h.Store.WebhookSubscriptions(ctx); len(subs) != 0 {
		t.Fatalf("bad input stored %d subscriptions", len(subs))
	}

	a := call("POST", "/webhooks", map[string]any{"url": srv.URL + "/hook", "events": []string{"organization.created"},
		"description": "CRM"}, 201)
	secret, _ := a.Body["secret"].(string)
	wh, _ := a.Body["id"].(string)
	if !strings.HasPrefix(secret, "whsec_") || wh == "" || a.Body["deny_sample_percent"] != float64(100) {
		t.Fatalf("create: %s", a.Raw)
	}
	if subs, _ := w.h.Store.WebhookSubscriptions(ctx); len(subs) != 1 || strings.Contains(string(subs[0].SecretSealed), secret) {
		t.Fatalf("stored: %+v", subs)
	}
	for _, path := range []string{"/webhooks", "/webhooks/" + wh, strings.TrimPrefix(a.Header.Get("Location"), "/api/v1")} {
		if a := call("GET", path, nil, 200); strings.Contains(a.Raw, secret) || !strings.Contains(a.Raw, wh) {
			t.Fatalf("GET %s shows the secret, or not the webhook: %s", path, a.Raw)
		}
	}
	if a := call("GET", "/webhook-events", nil, 200); !strings.Contains(a.Raw, `"organization.created"`) {
		t.Fatalf("events: %s", a.Raw)
	}

	// An organization made through the API reaches the receiver, signed.
	call("POST", "/orgs", map[string]any{"slug": "initech", "name": "Initech", "domains": []string{"initech.example"}}, 201)
	w.dispatchOnce(t)
	reqs := got.all()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].body), "initech") {
		t.Fatalf("the receiver got %d requests: %+v", len(reqs), reqs)
	}
	msgID, err := webhooks.Verify(secret, reqs[0].header, reqs[0].body, w.clock.Now(), time.Minute)
	if err != nil {
		t.Fatalf("the delivery is not signed with the secret the API showed: %v", err)
	}

	// The delivery log, with the CLI's filters.
	ds := apiItems(t, call("GET", "/webhook-deliveries?webhook_id="+wh, nil, 200))
	if len(ds) != 1 || ds[0]["id"] != msgID || ds[0]["event"] != "organization.created" || ds[0]["status"] != "delivered" ||
		ds[0]["attempts"] != float64(1) || ds[0]["webhook_id"] != wh {
		t.Fatalf("deliveries: %+v", ds)
	}
	if ds := apiItems(t, call("GET", "/webhook-deliveries?status=delivered&limit=1", nil, 200)); len(ds) != 1 {
		t.Fatalf("status=delivered: %+v", ds)
	}
	if ds := apiItems(t, call("GET", "/webhook-deliveries?status=failed", nil, 200)); len(ds) != 0 {
		t.Fatalf("status=failed: %+v", ds)
	}
	if ds := apiItems(t, call("GET", "/webhook-deliveries?webhook_id=wh_other", nil, 200)); len(ds) != 0 {
		t.Fatalf("another webhook's: %+v", ds)
	}
	for _, q := range []string{"status=bogus", "limit=0", "limit=501", "limit=x"} {
		wantProblem(t, w.api(t, tok, "GET", "/webhook-deliveries?"+q, nil), http.StatusBadRequest)
	}

	// Redelivery queues it again; the next round sends it with the same ID.
	call("POST", "/webhook-deliveries/"+msgID+"/redeliver", nil, 204)
	if d, _ := w.h.Store.WebhookDelivery(ctx, msgID); d.Status != store.DeliveryPending || d.Attempts != 0 {
		t.Fatalf("after redelivery: %+v", d)
	}
	w.dispatchOnce(t)
	if reqs := got.all(); len(reqs) != 2 || reqs[1].header.Get("webhook-id") != msgID {
		t.Fatalf("redelivery: %d requests", len(reqs))
	}
	wantProblem(t, w.api(t, tok, "POST", "/webhook-deliveries/msg_nope/redeliver", nil), http.StatusNotFound)
	a = call("GET", "/audit?q=api-token:"+rec.ID+"&limit=500", nil, 200)
	for _, want := range []string{"webhook.create", "webhook.redeliver"} {
		if !strings.Contains(a.Raw, `"action":"`+want+`"`) {
			t.Errorf("the audit log lacks %s by the token", want)
		}
	}

	// Deleting the subscription deletes its log.
	call("DELETE", "/webhooks/"+wh, nil, 204)
	wantProblem(t, w.api(t, tok, "DELETE", "/webhooks/"+wh, nil), http.StatusNotFound)
	wantProblem(t, w.api(t, tok, "GET", "/webhooks/"+wh, nil), http.StatusNotFound)
	if ds := apiItems(t, call("GET", "/webhook-deliveries?webhook_id="+wh, nil, 200)); len(ds) != 0 {
		t.Fatalf("the deleted webhook's log: %+v", ds)
	}
}

// TestAdminAPIWebhookAndHookGuards tries, as an attacker holding an
// organization's admin token would, every webhook and inbound hook route:
// they are the platform's, so each is 403 and nothing changes. A platform
// token that may only read reads them and changes nothing either.
func TestAdminAPIWebhookAndHookGuards(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	svc := &webhooks.Service{Store: w.h.Store, Sealer: w.h.Config.SignIn.Sealer, Now: w.clock.Now}
	sub, secret, err := svc.CreateSubscription(ctx, store.Actor{Label: "test"}, webhooks.SubscriptionInput{
		URL: "https://crm.example/hook", Events: []string{webhooks.OrgCreated}})
	if err != nil {
		t.Fatal(err)
	}
	hook, hookSecret, err := svc.CreateInboundHook(ctx, store.Actor{Label: "test"}, "billing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.Store.EnqueueWebhookDeliveries(ctx, []store.WebhookDelivery{{ID: "msg_guard", SubscriptionID: sub.ID,
		Event: webhooks.OrgCreated, Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := w.h.Store.FinishWebhookAttempt(ctx, "msg_guard", store.DeliveryFailed, 500, "HTTP 500", w.clock.Now(), w.clock.Now()); err != nil {
		t.Fatal(err)
	}

	writes := []attempt{
		{"POST", "/webhooks", map[string]any{"url": "https://evil.example/hook", "events": []string{"organization.created"}}, 403},
		{"DELETE", "/webhooks/" + sub.ID, nil, 403},
		{"PATCH", "/webhooks/" + sub.ID, map[string]any{"url": "https://evil.example/hook"}, 403},
		{"POST", "/webhooks/" + sub.ID + "/pause", nil, 403},
		{"POST", "/webhooks/" + sub.ID + "/resume", nil, 403},
		{"POST", "/webhook-deliveries/msg_guard/redeliver", nil, 403},
		{"POST", "/hooks", map[string]any{"name": "evil"}, 403},
		{"DELETE", "/hooks/billing", nil, 403},
		{"DELETE", "/hooks/" + hook.ID, nil, 403},
	}
	reads := []attempt{
		{"GET", "/webhooks", nil, 200},
		{"GET", "/webhooks/" + sub.ID, nil, 200},
		{"GET", "/webhook-deliveries", nil, 200},
		{"GET", "/webhook-deliveries?webhook_id=" + sub.ID, nil, 200},
		{"GET", "/webhook-events", nil, 200},
		{"GET", "/hooks", nil, 200},
		{"GET", "/hooks/" + hook.ID, nil, 200},
		{"GET", "/hooks/billing", nil, 200},
	}
	acmeAdmin, _ := w.apiToken(t, w.acme, store.APIRoleAdmin)
	platformReader, _ := w.apiToken(t, store.Organization{}, store.APIRoleRead)
	try := func(who, tok string, cs []attempt, status func(attempt) int) {
		for _, c := range cs {
			a := w.api(t, tok, c.method, c.path, c.body)
			if a.Status != status(c) {
				t.Errorf("%s: %s %s: %d, want %d: %s", who, c.method, c.path, a.Status, status(c), a.Raw)
			}
			for _, s := range []string{secret, hookSecret, "crm.example", hook.ID} {
				// (A path that names the hook is echoed as the problem's instance.)
				if a.Status >= 400 && strings.Contains(a.Raw, s) && !strings.Contains(c.path, s) {
					t.Errorf("%s: %s %s: the refusal shows %q", who, c.method, c.path, s)
				}
			}
			if strings.Contains(a.Raw, secret) || strings.Contains(a.Raw, hookSecret) {
				t.Errorf("%s: %s %s shows a secret", who, c.method, c.path)
			}
		}
	}
	forbidden := func(attempt) int { return http.StatusForbidden }
	try("organization admin", acmeAdmin, append(append([]attempt{}, writes...), reads...), forbidden)
	try("platform reader", platformReader, writes, forbidden)
	try("platform reader", platformReader, reads, func(c attempt) int { return c.want })

	// Nothing changed.
	if subs, _ := w.h.Store.WebhookSubscriptions(ctx); len(subs) != 1 || subs[0].ID != sub.ID || subs[0].URL != "https://crm.example/hook" ||
		!subs[0].Enabled || string(subs[0].SecretSealed) != string(sub.SecretSealed) {
		t.Errorf("subscriptions changed: %+v", subs)
	}
	if hs, _ := w.h.Store.InboundHooks(ctx); len(hs) != 1 || hs[0].Name != "billing" {
		t.Errorf("inbound hooks changed: %+v", hs)
	}
	if d, _ := w.h.Store.WebhookDelivery(ctx, "msg_guard"); d.Status != store.DeliveryFailed {
		t.Errorf("the failed delivery was queued again: %+v", d)
	}
}

// TestAdminAPIWebhookSecretsAreNotKept: creating a webhook or an inbound
// hook shows its signing secret once. A repeat with the same
// Idempotency-Key gets 409 and the Location, not the secret, the secret
// is not stored for replays, and nothing is created twice.
func TestAdminAPIWebhookSecretsAreNotKept(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, rec := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	for _, c := range []struct {
		path, key string
		body      map[string]any
		count     func() int
	}{
		{"/webhooks", "wh-1", map[string]any{"url": "https://crm.example/hook", "events": []string{"organization.created"}}, func() int {
			subs, _ := w.h.Store.WebhookSubscriptions(ctx)
			return len(subs)
		}},
		{"/hooks", "hook-1", map[string]any{"name": "billing"}, func() int {
			hs, _ := w.h.Store.InboundHooks(ctx)
			return len(hs)
		}},
	} {
		first := must(t, w.api(t, tok, "POST", c.path, c.body, "Idempotency-Key", c.key), 201, "create "+c.path)
		secret, _ := first.Body["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") || first.Header.Get("Location") == "" {
			t.Fatalf("%s: %v %s", c.path, first.Header, first.Raw)
		}
		again := w.api(t, tok, "POST", c.path, c.body, "Idempotency-Key", c.key)
		wantProblem(t, again, http.StatusConflict)
		if again.Header.Get("Location") != first.Header.Get("Location") || strings.Contains(again.Raw, secret) {
			t.Fatalf("%s repeat: %v %s", c.path, again.Header, again.Raw)
		}
		_, stored, err := w.h.Store.ReserveIdempotencyKey(ctx, rec.ID, c.key, store.IdempotentResponse{}, w.clock.Now())
		if err != nil || strings.Contains(string(stored.Body), secret) {
			t.Fatalf("%s: the secret was stored for replays: %v", c.path, err)
		}
		if n := c.count(); n != 1 {
			t.Fatalf("%s: %d made", c.path, n)
		}
	}
	// A name already taken is refused, and the first hook keeps its secret.
	wantProblem(t, w.api(t, tok, "POST", "/hooks", map[string]any{"name": "billing"}), http.StatusUnprocessableEntity)
	wantProblem(t, w.api(t, tok, "POST", "/hooks", map[string]any{"name": "has space"}), http.StatusUnprocessableEntity)
	a := must(t, w.api(t, tok, "GET", "/hooks", nil), 200, "list hooks")
	if hs := apiItems(t, a); len(hs) != 1 || hs[0]["name"] != "billing" || !strings.HasPrefix(hs[0]["path"].(string), "/hooks/inbound/") ||
		strings.Contains(a.Raw, "whsec_") {
		t.Fatalf("hooks: %s", a.Raw)
	}
	must(t, w.api(t, tok, "DELETE", "/hooks/billing", nil), 204, "delete hook")
	wantProblem(t, w.api(t, tok, "DELETE", "/hooks/billing", nil), http.StatusNotFound)
}

// TestAdminAPIOrgAttribute: a platform token sets an organization's
// attribute (normalized as the CLI does), removes it by an empty value or
// DELETE; bad names are refused with nothing stored; the organization's own
// admin token and a platform read token may not change it.
func TestAdminAPIOrgAttribute(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, rec := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	attrs := func() map[string]string {
		o, err := w.h.Store.Organization(ctx, w.acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		return o.Attributes
	}

	a := must(t, w.api(t, tok, "PUT", "/orgs/acme/attributes/regions", map[string]any{"value": " eu, us ,"}), 200, "set")
	if a.Body["attributes"].(map[string]any)["regions"] != "eu,us" || attrs()["regions"] != "eu,us" {
		t.Fatalf("set: %s %v", a.Raw, attrs())
	}
	// By the organization's ID too.
	must(t, w.api(t, tok, "PUT", "/orgs/"+w.acme.ID+"/attributes/tier", map[string]any{"value": "gold"}), 200, "set by ID")
	if attrs()["tier"] != "gold" {
		t.Fatalf("set by ID: %v", attrs())
	}

	for _, name := range []string{"a=b", "a,b", strings.Repeat("x", 65)} {
		wantProblem(t, w.api(t, tok, "PUT", "/orgs/acme/attributes/"+name, map[string]any{"value": "x"}), http.StatusUnprocessableEntity)
	}
	wantProblem(t, w.api(t, tok, "PUT", "/orgs/acme/attributes/big", map[string]any{"value": strings.Repeat("x", 4097)}),
		http.StatusUnprocessableEntity)
	wantProblem(t, w.api(t, tok, "PUT", "/orgs/acme/attributes/regions", map[string]any{"values": "eu"}), http.StatusBadRequest)
	wantProblem(t, w.api(t, tok, "PUT", "/orgs/nope/attributes/regions", map[string]any{"value": "eu"}), http.StatusNotFound)
	if got := attrs(); len(got) != 2 || got["regions"] != "eu,us" {
		t.Fatalf("refused input changed the attributes: %v", got)
	}

	// The organization's own admin, and a reader, may not change them.
	acmeAdmin, _ := w.apiToken(t, w.acme, store.APIRoleAdmin)
	reader, _ := w.apiToken(t, store.Organization{}, store.APIRoleRead)
	for _, who := range []string{acmeAdmin, reader} {
		wantProblem(t, w.api(t, who, "PUT", "/orgs/acme/attributes/regions", map[string]any{"value": "everywhere"}), http.StatusForbidden)
		wantProblem(t, w.api(t, who, "PUT", "/orgs/acme/attributes/new", map[string]any{"value": "x"}), http.StatusForbidden)
		wantProblem(t, w.api(t, who, "DELETE", "/orgs/acme/attributes/regions", nil), http.StatusForbidden)
	}
	if got := attrs(); len(got) != 2 || got["regions"] != "eu,us" {
		t.Fatalf("a refused token changed the attributes: %v", got)
	}

	// Removal: an empty value, or DELETE.
	must(t, w.api(t, tok, "PUT", "/orgs/acme/attributes/tier", map[string]any{"value": ""}), 200, "empty value")
	a = must(t, w.api(t, tok, "DELETE", "/orgs/acme/attributes/regions", nil), 200, "delete")
	if got := attrs(); len(got) != 0 || strings.Contains(a.Raw, "regions") {
		t.Fatalf("after removal: %v %s", got, a.Raw)
	}
	a = must(t, w.api(t, tok, "GET", "/orgs/acme/audit?q=api-token:"+rec.ID+"&limit=500", nil), 200, "audit")
	if strings.Count(a.Raw, `"action":"org.attribute"`) != 4 {
		t.Errorf("want 4 org.attribute events by the token: %s", a.Raw)
	}
}

// TestAdminAPIWebhookEditAndPause: a platform admin token edits a
// subscription (If-Match honoured; a new URL answers a new secret once,
// which signs what the new URL is sent), pauses it (nothing is sent) and
// resumes it (the held delivery goes out); bad input changes nothing, and
// each change is in the audit log under the token.
func TestAdminAPIWebhookEditAndPause(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tok, rec := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	call := func(method, path string, body any, status int, header ...string) apiAnswer {
		t.Helper()
		return must(t, w.api(t, tok, method, path, body, header...), status, method+" "+path)
	}
	w.dispatchOnce(t) // the world's own setup goes nowhere
	oldSrv, oldGot := webhookReceiver(t)
	srv, got := webhookReceiver(t)
	a := call("POST", "/webhooks", map[string]any{"url": oldSrv.URL + "/hook", "events": []string{"organization.created"}}, 201)
	wh, secret1 := a.Body["id"].(string), a.Body["secret"].(string)
	read := call("GET", "/webhooks/"+wh, nil, 200)
	etag := read.Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET /webhooks/{id} has no ETag")
	}

	for _, body := range []map[string]any{
		{"url": "http://crm.example/hook"},
		{"url": "https://user:pw@crm.example/hook"},
		{"events": []string{}},
		{"events": []string{"nope"}},
		{"deny_sample_percent": 101},
	} {
		wantProblem(t, w.api(t, tok, "PATCH", "/webhooks/"+wh, body), http.StatusUnprocessableEntity)
	}
	wantProblem(t, w.api(t, tok, "PATCH", "/webhooks/"+wh, map[string]any{"secret": "whsec_mine"}), http.StatusBadRequest)
	wantProblem(t, w.api(t, tok, "PATCH", "/webhooks/wh_nope", map[string]any{"description": "x"}), http.StatusNotFound)
	if again := call("GET", "/webhooks/"+wh, nil, 200); again.Raw != read.Raw {
		t.Fatalf("refused edits changed the webhook: %s", again.Raw)
	}

	// Events only: no secret in the answer; the old ETag is stale after it.
	a = call("PATCH", "/webhooks/"+wh, map[string]any{"events": []string{"organization.created", "organization.suspended"}}, 200,
		"If-Match", etag)
	if _, has := a.Body["secret"]; has || len(a.Body["events"].([]any)) != 2 {
		t.Fatalf("edit events: %s", a.Raw)
	}
	wantProblem(t, w.api(t, tok, "PATCH", "/webhooks/"+wh, map[string]any{"description": "late"}, "If-Match", etag),
		http.StatusPreconditionFailed)

	// A new URL: a new secret, once.
	a = call("PATCH", "/webhooks/"+wh, map[string]any{"url": srv.URL + "/in"}, 200)
	secret2, _ := a.Body["secret"].(string)
	if !strings.HasPrefix(secret2, "whsec_") || secret2 == secret1 || a.Body["url"] != srv.URL+"/in" ||
		a.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("new URL: %v %s", a.Header, a.Raw)
	}
	if r := call("GET", "/webhooks/"+wh, nil, 200); strings.Contains(r.Raw, secret2) || r.Header.Get("ETag") != a.Header.Get("ETag") {
		t.Fatalf("GET after the edit shows the secret, or another ETag: %v %s", r.Header, r.Raw)
	}

	// Paused: an event is not sent.
	if a := call("POST", "/webhooks/"+wh+"/pause", nil, 200); a.Body["enabled"] != false {
		t.Fatalf("pause: %s", a.Raw)
	}
	call("POST", "/orgs", map[string]any{"slug": "initech", "name": "Initech", "domains": []string{"initech.example"}}, 201)
	w.dispatchOnce(t)
	if n := len(got.all()); n != 0 {
		t.Fatalf("paused: the receiver got %d requests", n)
	}
	if a := call("POST", "/webhooks/"+wh+"/resume", nil, 200); a.Body["enabled"] != true {
		t.Fatalf("resume: %s", a.Raw)
	}
	call("POST", "/orgs", map[string]any{"slug": "hooli", "name": "Hooli", "domains": []string{"hooli.example"}}, 201)
	w.dispatchOnce(t)
	reqs := got.all()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].body), "hooli") {
		t.Fatalf("resumed: the receiver got %d requests: %+v", len(reqs), reqs)
	}
	if _, err := webhooks.Verify(secret2, reqs[0].header, reqs[0].body, w.clock.Now(), time.Minute); err != nil {
		t.Fatalf("not signed with the new secret: %v", err)
	}
	if n := len(oldGot.all()); n != 0 {
		t.Fatalf("the old URL got %d requests", n)
	}
	wantProblem(t, w.api(t, tok, "POST", "/webhooks/wh_nope/pause", nil), http.StatusNotFound)

	a = call("GET", "/audit?q=api-token:"+rec.ID+"&limit=500", nil, 200)
	for _, want := range []string{"webhook.update", "webhook.pause", "webhook.resume"} {
		if !strings.Contains(a.Raw, `"action":"`+want+`"`) {
			t.Errorf("the audit log lacks %s by the token", want)
		}
	}
	if strings.Contains(a.Raw, secret2) {
		t.Error("the audit log shows the new secret")
	}
	if subs, _ := w.h.Store.WebhookSubscriptions(ctx); len(subs) != 1 {
		t.Fatalf("%d subscriptions", len(subs))
	}
}

// TestAdminAPIInboundHookByID: GET /hooks/{hook} shows one inbound hook,
// named by its ID (what its URL carries) or its name, never its secret;
// an unknown one is 404; DELETE takes either too.
func TestAdminAPIInboundHookByID(t *testing.T) {
	w := newWorld(t)
	tok, _ := w.apiToken(t, store.Organization{}, store.APIRoleAdmin)
	a := must(t, w.api(t, tok, "POST", "/hooks", map[string]any{"name": "billing"}), 201, "create hook")
	id, secret := a.Body["id"].(string), a.Body["secret"].(string)
	for _, ref := range []string{id, "billing"} {
		a := must(t, w.api(t, tok, "GET", "/hooks/"+ref, nil), 200, "GET /hooks/"+ref)
		if a.Body["id"] != id || a.Body["name"] != "billing" || a.Body["path"] != "/hooks/inbound/"+id || a.Body["created_at"] == nil {
			t.Fatalf("GET /hooks/%s: %s", ref, a.Raw)
		}
		if strings.Contains(a.Raw, secret) || strings.Contains(a.Raw, `"secret"`) {
			t.Fatalf("GET /hooks/%s shows the secret: %s", ref, a.Raw)
		}
	}
	wantProblem(t, w.api(t, tok, "GET", "/hooks/nope", nil), http.StatusNotFound)
	must(t, w.api(t, tok, "DELETE", "/hooks/"+id, nil), 204, "DELETE by ID")
	wantProblem(t, w.api(t, tok, "GET", "/hooks/"+id, nil), http.StatusNotFound)
	wantProblem(t, w.api(t, tok, "DELETE", "/hooks/billing", nil), http.StatusNotFound)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/store"
	"portico/webhooks"
)

// startDemo starts the full server with demo data and returns its URL, the
// app and the demo service client's credentials.
func startDemo(t *testing.T, args ...string) (string, *app, string, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig(append(append(dbArgs(t, nil), "--issuer", base, "--demo"), args...))
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
	return base, a, m[1], m[2]
}

func postForm(t *testing.T, u string, form url.Values, id, secret string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestBillingHookSuspendsAtOnce: a billing system's signed
// organization.update suspends the demo organization; its machine token
// is inactive at introspection and the token endpoint refuses a new one
// at once. A replay, a stale timestamp, a wrong secret and an unknown hook
// change nothing; the change is audited with the hook as actor.
func TestBillingHookSuspendsAtOnce(t *testing.T) {
	base, a, id, secret := startDemo(t)
	ctx := context.Background()
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"inventory:read"}}
	st, tok := postForm(t, base+"/token", cc, id, secret)
	if st != http.StatusOK {
		t.Fatalf("token: %d %v", st, tok)
	}
	at, _ := tok["access_token"].(string)
	introspect := func() bool {
		t.Helper()
		st, in := postForm(t, base+"/introspect", url.Values{"token": {at}}, id, secret)
		if st != http.StatusOK {
			t.Fatalf("introspect: %d %v", st, in)
		}
		return in["active"] == true
	}
	if !introspect() {
		t.Fatal("a fresh token is inactive")
	}

	svc := &webhooks.Service{Store: a.store, Sealer: mustSealer(t, a)}
	hook, hookSecret, err := svc.CreateInboundHook(ctx, store.Actor{Label: "cli"}, "billing")
	if err != nil {
		t.Fatal(err)
	}
	send := func(path, secret, msgID string, ts time.Time, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if err := webhooks.SetHeaders(req.Header, secret, msgID, ts, []byte(body)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	suspend := `{"type":"organization.update","data":{"organization":"acme","status":"suspended"}}`
	path := "/hooks/inbound/" + hook.ID
	for name, code := range map[string]int{
		"wrong secret": send(path, webhooks.NewSecret(), "msg_a", time.Now(), suspend),
		"stale":        send(path, hookSecret, "msg_b", time.Now().Add(-10*time.Minute), suspend),
		"unknown hook": send("/hooks/inbound/nope", hookSecret, "msg_c", time.Now(), suspend),
	} {
		if code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, code)
		}
	}
	if !introspect() {
		t.Fatal("a refused hook call changed the organization")
	}

	if code := send(path, hookSecret, "msg_1", time.Now(), suspend); code != http.StatusOK {
		t.Fatalf("signed suspension: status %d", code)
	}
	// "At once": the server's caches revalidate against the database every
	// 20 ms at most (on PostgreSQL, when the change's notification
	// arrives), so the suspension is seen within milliseconds.
	suspended := time.Now()
	for introspect() {
		if time.Since(suspended) > time.Second {
			t.Fatal("the machine token is still active a second after the suspension")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st, _ := postForm(t, base+"/token", cc, id, secret); st == http.StatusOK {
		t.Error("the token endpoint still issues to the suspended organization")
	}
	reactivate := `{"type":"organization.update","data":{"organization":"acme","status":"active"}}`
	if code := send(path, hookSecret, "msg_1", time.Now(), reactivate); code != http.StatusConflict {
		t.Errorf("replayed webhook-id: status %d, want 409", code)
	}
	acme, _ := a.store.OrganizationBySlug(ctx, "acme")
	if acme.Status != store.OrgSuspended {
		t.Error("the replay reactivated the organization")
	}
	events, err := a.store.AuditEvents(ctx, store.AuditFilter{OrgID: acme.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[0].Action != "org.update" || events[0].Actor != "hook:billing" {
		t.Errorf("newest audit event %+v, want org.update by hook:billing", events[0])
	}
	if code := send(path, hookSecret, "msg_2", time.Now(), `{"type":"organization.update","data":{"organization":"acme","status":"gone"}}`); code != http.StatusBadRequest {
		t.Errorf("bad status: %d", code)
	}
	if code := send(path, hookSecret, "msg_3", time.Now(), `{"type":"organization.update","data":{"organization":"acme","plan":"no-such-plan"}}`); code != http.StatusUnprocessableEntity {
		t.Errorf("unknown plan: %d", code)
	}
	if code := send(path, hookSecret, "msg_4", time.Now(), `{"type":"organization.update","data":{"organization":"nope","status":"active"}}`); code != http.StatusNotFound {
		t.Errorf("unknown organization: %d", code)
	}
	// Paid again: active, no plan, a new end date.
	renew := `{"type":"organization.update","data":{"organization":"acme","status":"active","plan":"","valid_until":"2099-06-30"}}`
	if code := send(path, hookSecret, "msg_5", time.Now(), renew); code != http.StatusOK {
		t.Fatalf("renewal: %d", code)
	}
	acme, _ = a.store.OrganizationBySlug(ctx, "acme")
	if acme.Status != store.OrgActive || acme.PlanID != "" || acme.ValidUntil.Format("2006-01-02") != "2099-06-30" {
		t.Errorf("after renewal %+v", acme)
	}
}

func mustSealer(t *testing.T, a *app) *store.Sealer {
	t.Helper()
	if a.sealer == nil {
		t.Fatal("the app keeps no sealer")
	}
	return a.sealer
}

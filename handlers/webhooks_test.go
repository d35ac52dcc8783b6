package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
	"portico/webhooks"
)

const whPassword = "correct horse battery staple 42"

func webhookPortal(t *testing.T) (*handlerstest.Harness, *handlerstest.Client, *handlerstest.Client) {
	t.Helper()
	h := handlerstest.New(t, func(c *handlers.Config) {
		c.Webhooks = &webhooks.Service{Store: c.Store, Sealer: c.SignIn.Sealer, Now: c.Now}
	})
	org := h.Org(t, "acme", "acme.example")
	admin := h.User(t, org, "root@acme.example", store.RoleAdmin, whPassword)
	if _, _, err := h.Store.UpdateUser(t.Context(), admin.OrgID, admin.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.User(t, org, "ann@acme.example", store.RoleAdmin, whPassword)
	root := h.Client(t)
	root.Login("root@acme.example", whPassword)
	ann := h.Client(t)
	ann.Login("ann@acme.example", whPassword)
	return h, root, ann
}

var shownSecret = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

// TestWebhookPages: a platform admin creates a subscription and sees its
// secret once; the list never shows it again; bad input is refused with
// nothing stored; an organization's own admin may not see or change
// webhooks; the delivery log and redelivery work.
func TestWebhookPages(t *testing.T) {
	h, root, ann := webhookPortal(t)
	ctx := t.Context()

	r := root.Post("/admin/webhooks", url.Values{"url": {"http://example.com/x"}, "events": {"organization.created"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "https URL") {
		t.Fatalf("http URL: %d", r.StatusCode)
	}
	r = root.Post("/admin/webhooks", url.Values{"url": {"https://crm.example.com/<x>"}, "events": {"nope"}})
	if r.StatusCode != http.StatusUnprocessableEntity || strings.Contains(r.Body, "<x>") {
		t.Fatalf("unknown event: %d (or the URL was not escaped)", r.StatusCode)
	}
	if subs, _ := h.Store.WebhookSubscriptions(ctx); len(subs) != 0 {
		t.Fatalf("bad input stored %d subscriptions", len(subs))
	}

	r = root.Post("/admin/webhooks", url.Values{"url": {"https://crm.example.com/hook"},
		"events": {"organization.created", "decision.denied"}, "deny_sample_percent": {"10"}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("create: %d", r.StatusCode)
	}
	secret := shownSecret.FindString(r.Body)
	if secret == "" {
		t.Fatal("the new secret is not shown")
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page with the secret may be cached")
	}
	subs, _ := h.Store.WebhookSubscriptions(ctx)
	if len(subs) != 1 || subs[0].DenySamplePercent != 10 || strings.Contains(string(subs[0].SecretSealed), secret) {
		t.Fatalf("stored %+v", subs)
	}
	if list := root.Get("/admin/webhooks"); strings.Contains(list.Body, secret) || !strings.Contains(list.Body, "crm.example.com/hook") {
		t.Error("the list shows the secret again, or not the subscription")
	}

	// An organization admin is not a platform admin.
	for _, path := range []string{"/admin/webhooks", "/admin/webhooks/" + subs[0].ID} {
		if r := ann.Get(path); r.StatusCode != http.StatusForbidden {
			t.Errorf("org admin GET %s: %d", path, r.StatusCode)
		}
	}
	if r := ann.Post("/admin/webhooks/"+subs[0].ID+"/delete", nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("org admin delete: %d", r.StatusCode)
	}
	if r := ann.Post("/admin/hooks", url.Values{"name": {"billing"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("org admin inbound hook: %d", r.StatusCode)
	}

	// The delivery log and redelivery.
	if _, err := h.Store.EnqueueWebhookDeliveries(ctx, []store.WebhookDelivery{{ID: "msg_test1", SubscriptionID: subs[0].ID,
		Event: "organization.created", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.FinishWebhookAttempt(ctx, "msg_test1", store.DeliveryFailed, 500, "HTTP 500", h.Config.Now(), h.Config.Now().Add(0)); err != nil {
		t.Fatal(err)
	}
	if r := root.Get("/admin/webhooks/" + subs[0].ID); !strings.Contains(r.Body, "msg_test1") {
		t.Fatalf("delivery log: %d", r.StatusCode)
	}
	if r := root.Post("/admin/webhooks/deliveries/msg_test1/redeliver", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("redeliver: %d", r.StatusCode)
	}
	if d, _ := h.Store.WebhookDelivery(ctx, "msg_test1"); d.Status != store.DeliveryPending || d.Attempts != 0 {
		t.Errorf("after redelivery %+v", d)
	}
	if r := root.Post("/admin/webhooks/deliveries/msg_nope/redeliver", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("redeliver unknown: %d", r.StatusCode)
	}

	// Inbound hooks: the secret once, names unique.
	r = root.Post("/admin/hooks", url.Values{"name": {"billing"}})
	if r.StatusCode != http.StatusOK || shownSecret.FindString(r.Body) == "" || !strings.Contains(r.Body, "/hooks/inbound/") {
		t.Fatalf("inbound hook: %d", r.StatusCode)
	}
	if r := root.Post("/admin/hooks", url.Values{"name": {"billing"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("duplicate inbound hook: %d", r.StatusCode)
	}

	if r := root.Post("/admin/webhooks/"+subs[0].ID+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if subs, _ := h.Store.WebhookSubscriptions(ctx); len(subs) != 0 {
		t.Error("not deleted")
	}
	events, _ := h.Store.AuditEvents(ctx, store.AuditFilter{})
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"webhook.create", "webhook.redeliver", "inbound_hook.create", "webhook.delete"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("no %s audit event in %v", want, actions)
		}
	}
}

// TestWebhookEditAndPausePages: a platform admin edits a subscription on
// its page (bad input: 422, nothing changed; a new URL: its new secret
// shown once, not cacheable), pauses and resumes it; an organization's
// admin may do none of it, and a form without the CSRF token is refused.
// All of it is audited.
func TestWebhookEditAndPausePages(t *testing.T) {
	h, root, ann := webhookPortal(t)
	ctx := t.Context()
	svc := &webhooks.Service{Store: h.Store, Sealer: h.Config.SignIn.Sealer, Now: h.Config.Now}
	sub, first, err := svc.CreateSubscription(ctx, store.Actor{Label: "test"}, webhooks.SubscriptionInput{
		URL: "https://crm.example.com/hook", Events: []string{webhooks.OrgCreated}})
	if err != nil {
		t.Fatal(err)
	}
	base := "/admin/webhooks/" + sub.ID
	unchanged := func(what string) {
		t.Helper()
		got, err := h.Store.WebhookSubscription(ctx, sub.ID)
		if err != nil || got.URL != sub.URL || strings.Join(got.Events, " ") != strings.Join(sub.Events, " ") || !got.Enabled ||
			got.Description != "" || string(got.SecretSealed) != string(sub.SecretSealed) {
			t.Fatalf("%s changed the subscription: %+v %v", what, got, err)
		}
	}

	// The attacker: an organization's admin, and a form without the token.
	for _, path := range []string{base + "/edit", base + "/pause", base + "/resume"} {
		form := url.Values{"url": {"https://evil.example/hook"}, "events": {"member.joined"}}
		if r := ann.Post(path, form); r.StatusCode != http.StatusForbidden {
			t.Errorf("org admin POST %s: %d", path, r.StatusCode)
		}
		if r := root.PostRaw(path, form); r.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without the CSRF token: %d", path, r.StatusCode)
		}
	}
	unchanged("refused requests")

	page := root.Get(base)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `id="webhook-edit"`) || !strings.Contains(page.Body, `id="pause-webhook"`) {
		t.Fatalf("the subscription's page has no edit form or pause button: %d", page.StatusCode)
	}
	for name, form := range map[string]url.Values{
		"http URL":  {"url": {"http://example.com/<x>"}, "events": {"organization.created"}},
		"no events": {"url": {sub.URL}},
		"bad event": {"url": {sub.URL}, "events": {"nope"}},
		"sample":    {"url": {sub.URL}, "events": {"organization.created"}, "deny_sample_percent": {"500"}},
	} {
		r := root.Post(base+"/edit", form)
		if r.StatusCode != http.StatusUnprocessableEntity || strings.Contains(r.Body, "<x>") {
			t.Errorf("%s: %d (or not escaped)", name, r.StatusCode)
		}
	}
	unchanged("refused edits")

	// Events and description: no new secret.
	r := root.Post(base+"/edit", url.Values{"url": {sub.URL}, "events": {"organization.created", "member.joined"},
		"description": {"CRM"}, "deny_sample_percent": {"100"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.StatusCode)
	}
	if got, _ := h.Store.WebhookSubscription(ctx, sub.ID); got.Description != "CRM" || len(got.Events) != 2 ||
		string(got.SecretSealed) != string(sub.SecretSealed) {
		t.Fatalf("after the edit: %+v", got)
	}
	// A new URL: a new secret, shown once.
	r = root.Post(base+"/edit", url.Values{"url": {"https://crm2.example.com/hook"}, "events": {"organization.created"}})
	secret := shownSecret.FindString(r.Body)
	if r.StatusCode != http.StatusOK || secret == "" || secret == first || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("new URL: %d, secret %q, Cache-Control %q", r.StatusCode, secret, r.Header.Get("Cache-Control"))
	}
	if again := root.Get(base); strings.Contains(again.Body, secret) || !strings.Contains(again.Body, "crm2.example.com") {
		t.Fatal("the page shows the secret again, or not the new URL")
	}

	if r := root.Post(base+"/pause", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("pause: %d", r.StatusCode)
	}
	if got, _ := h.Store.WebhookSubscription(ctx, sub.ID); got.Enabled {
		t.Fatal("not paused")
	}
	if list := root.Get("/admin/webhooks"); !strings.Contains(list.Body, "Paused") {
		t.Error("the list does not show the subscription paused")
	}
	if r := root.Get(base); !strings.Contains(r.Body, `id="resume-webhook"`) {
		t.Error("a paused subscription's page has no resume button")
	}
	if r := root.Post(base+"/resume", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume: %d", r.StatusCode)
	}
	if got, _ := h.Store.WebhookSubscription(ctx, sub.ID); !got.Enabled {
		t.Fatal("not resumed")
	}
	for _, path := range []string{"/admin/webhooks/wh_nope/edit", "/admin/webhooks/wh_nope/pause"} {
		if r := root.Post(path, url.Values{"url": {sub.URL}, "events": {"organization.created"}}); r.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d", path, r.StatusCode)
		}
	}
	events, _ := h.Store.AuditEvents(ctx, store.AuditFilter{})
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
		if strings.Contains(string(e.After), secret) {
			t.Errorf("audit event %s holds the secret", e.Action)
		}
	}
	for _, want := range []string{"webhook.update", "webhook.pause", "webhook.resume"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("no %s audit event in %v", want, actions)
		}
	}
}

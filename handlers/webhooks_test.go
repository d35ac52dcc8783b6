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

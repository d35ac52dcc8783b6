package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/store"
)

// TestPlatformHome: the platform admin's home shows partnerships ending
// soon, sign-ins and tokens per day (SVG) and failing webhooks; an
// organization's admin sees none of it.
func TestPlatformHome(t *testing.T) {
	h, root, ann := webhookPortal(t)
	ctx := t.Context()
	slug := h.Org(t, "globex", "globex.example").ID
	if _, _, err := h.Store.UpdateOrganization(ctx, slug, func(o *store.Organization) error {
		o.ValidUntil = time.Now().Add(5 * 24 * time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.AddActivity(ctx, time.Now(), map[string]int{store.ActivityTokens: 40, store.ActivitySignIns: 3}); err != nil {
		t.Fatal(err)
	}
	sub := store.WebhookSubscription{URL: "https://crm.example.com/down", Events: []string{"organization.created"},
		SecretSealed: []byte("x"), DenySamplePercent: 100, Enabled: true}
	if err := h.Store.CreateWebhookSubscription(ctx, &sub); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.EnqueueWebhookDeliveries(ctx, []store.WebhookDelivery{{ID: "msg_down", SubscriptionID: sub.ID,
		Event: "organization.created", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.FinishWebhookAttempt(ctx, "msg_down", store.DeliveryFailed, 503, "HTTP 503", time.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}

	r := root.Get("/")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("home: %d", r.StatusCode)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if got := doc.Find("#ending-soon").Text(); !strings.Contains(got, "Globex") {
		t.Errorf("ending soon: %q", got)
	}
	if n := doc.Find("#chart-tokens svg rect").Length(); n != 1 {
		t.Errorf("tokens chart has %d bars with data, want 1", n)
	}
	if got := doc.Find("#chart-tokens title").Text(); !strings.Contains(got, ": 40") {
		t.Errorf("tokens chart: %q", got)
	}
	if got := doc.Find("#failing-webhooks").Text(); !strings.Contains(got, "crm.example.com/down") {
		t.Errorf("failing webhooks: %q", got)
	}
	if r := ann.Get("/"); strings.Contains(r.Body, "platform-ops") || strings.Contains(r.Body, "Globex") {
		t.Error("an organization admin sees the platform overview")
	}
}

package webhooks_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"portico/netguard"
	"portico/store"
	"portico/webhooks"
)

// TestNilClientIsGuarded: a dispatcher or audit stream built without a
// Client must not fall back to an unguarded one: a subscriber's URL on
// loopback or at the cloud metadata address (169.254.169.254) gets nothing,
// and the delivery log says it was refused.
func TestNilClientIsGuarded(t *testing.T) {
	ctx := context.Background()
	st, svc, sealer := setup(t)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	urls := []string{srv.URL + "/hook", "https://169.254.169.254/latest/meta-data/"}
	var subs []store.WebhookSubscription
	for _, u := range urls {
		sub, _, err := svc.CreateSubscription(ctx, store.Actor{Label: "cli"}, webhooks.SubscriptionInput{URL: u,
			Events: []string{webhooks.OrgSuspended}})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	org := store.Organization{Slug: "acme", Name: "Acme", Status: store.OrgActive}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	if err := st.InTx(ctx, func(tx *store.Store) error {
		before, after, err := tx.UpdateOrganization(ctx, org.ID, func(o *store.Organization) error { o.Status = store.OrgSuspended; return nil })
		if err != nil {
			return err
		}
		return tx.Audit(ctx, store.Actor{Label: "cli"}.Event(org.ID, "org.update", "organization", org.ID), before, after)
	}); err != nil {
		t.Fatal(err)
	}

	d := &webhooks.Dispatcher{Store: st, Sealer: sealer, Backoff: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for range 3 {
		d.RunOnce(ctx)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d deliveries through a nil Client", n)
	}
	for i, sub := range subs {
		log, err := st.WebhookDeliveries(ctx, sub.ID, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Attempts != 1 || log[0].Status == store.DeliveryDelivered || !strings.Contains(log[0].LastError, "refused") {
			t.Fatalf("%s: delivery log %+v", urls[i], log)
		}
	}

	sink := &webhooks.HTTPSink{URL: srv.URL + "/audit"}
	if err := sink.Send(ctx, []store.AuditEvent{{ID: "a1", Action: "org.update"}}); !errors.Is(err, netguard.ErrRefused) {
		t.Fatalf("audit stream with a nil Client to loopback: %v", err)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("the loopback receiver got %d audit batches", n)
	}
}

package webhooks_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"portico/store"
	"portico/webhooks"
)

// suspendOrg commits an organization's suspension with its audit event,
// which the dispatcher turns into an organization.suspended event.
func suspendOrg(t *testing.T, st *store.Store, slug string) {
	t.Helper()
	ctx := context.Background()
	org := store.Organization{Slug: slug, Name: slug, Status: store.OrgActive}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx *store.Store) error {
		before, after, err := tx.UpdateOrganization(ctx, org.ID, func(o *store.Organization) error { o.Status = store.OrgSuspended; return nil })
		if err != nil {
			return err
		}
		return tx.Audit(ctx, store.Actor{Label: "cli"}.Event(org.ID, "org.update", "organization", org.ID), before, after)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func auditOf(t *testing.T, st *store.Store, action string) []store.AuditEvent {
	t.Helper()
	all, err := st.AuditEvents(context.Background(), store.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEvent
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// TestPausedSubscriptionHoldsDeliveries: a paused subscription is not
// sent anything: a delivery already queued waits without spending
// attempts, and events that happen while it is paused are not queued for
// it. Resuming sends what was waiting. Both are audited.
func TestPausedSubscriptionHoldsDeliveries(t *testing.T) {
	ctx := context.Background()
	st, svc, sealer := setup(t)
	rcv := &receiver{fail: 1}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	sub, _, err := svc.CreateSubscription(ctx, store.Actor{Label: "cli"}, webhooks.SubscriptionInput{URL: srv.URL + "/hook",
		Events: []string{webhooks.OrgSuspended}})
	if err != nil {
		t.Fatal(err)
	}
	suspendOrg(t, st, "acme")
	d := dispatcher(st, sealer)
	d.RunOnce(ctx) // queued, first attempt fails
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("%d requests, want the first (failed) attempt", n)
	}

	paused, err := svc.SetSubscriptionEnabled(ctx, store.Actor{Label: "cli"}, sub.ID, false)
	if err != nil || paused.Enabled {
		t.Fatalf("pause: %+v %v", paused, err)
	}
	time.Sleep(1100 * time.Millisecond) // past the backoff and the dispatcher's 1 s view of subscriptions
	suspendOrg(t, st, "globex")         // happens while paused
	for range 5 {
		d.RunOnce(ctx)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("paused: %d requests, want still 1", n)
	}
	ds, err := st.WebhookDeliveries(ctx, sub.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Status != store.DeliveryPending || ds[0].Attempts != 1 {
		t.Fatalf("paused: deliveries %+v, want the one queued before, pending with 1 attempt", ds)
	}

	if _, err := svc.SetSubscriptionEnabled(ctx, store.Actor{Label: "cli"}, sub.ID, true); err != nil {
		t.Fatal(err)
	}
	d.RunOnce(ctx)
	if n := len(rcv.requests()); n != 2 {
		t.Fatalf("resumed: %d requests, want 2 (the held delivery, not the event from the pause)", n)
	}
	if len(auditOf(t, st, "webhook.pause")) != 1 || len(auditOf(t, st, "webhook.resume")) != 1 {
		t.Fatal("pause and resume are not both audited")
	}
	if _, err := svc.SetSubscriptionEnabled(ctx, store.Actor{Label: "cli"}, "wh_nope", false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pausing an unknown subscription: %v", err)
	}
}

// TestEditSubscription: the events, description and sample can be
// changed; a new URL is validated as at creation and gets a new signing
// secret (shown once), so the receiver at the old URL cannot sign messages
// the new one would accept. Refused input stores nothing. Edits are
// audited, without secrets.
func TestEditSubscription(t *testing.T) {
	ctx := context.Background()
	st, svc, sealer := setup(t)
	old, next := &receiver{}, &receiver{}
	oldSrv, nextSrv := httptest.NewServer(old), httptest.NewServer(next)
	defer oldSrv.Close()
	defer nextSrv.Close()
	actor := store.Actor{Label: "cli"}
	sub, secret1, err := svc.CreateSubscription(ctx, actor, webhooks.SubscriptionInput{URL: oldSrv.URL + "/hook",
		Events: []string{webhooks.OrgCreated}})
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }

	for name, ch := range map[string]webhooks.SubscriptionChange{
		"url":     {URL: str("ftp://crm.example/hook")},
		"user":    {URL: str("https://u:p@crm.example/hook")},
		"private": {URL: str("http://10.0.0.1/hook")},
		"events":  {Events: []string{"nope"}},
		"none":    {Events: []string{}},
		"sample":  {DenySamplePercent: num(101)},
	} {
		if _, _, err := svc.UpdateSubscription(ctx, actor, sub.ID, ch); !errors.As(err, new(webhooks.FieldErrors)) {
			t.Errorf("%s: %v, want field errors", name, err)
		}
	}
	if got, _ := st.WebhookSubscription(ctx, sub.ID); got.URL != sub.URL || !slices.Equal(got.Events, sub.Events) ||
		got.DenySamplePercent != 100 || string(got.SecretSealed) != string(sub.SecretSealed) {
		t.Fatalf("refused edits changed the subscription: %+v", got)
	}

	// Events and description only: the secret stays.
	got, secret, err := svc.UpdateSubscription(ctx, actor, sub.ID, webhooks.SubscriptionChange{
		Events: []string{webhooks.OrgSuspended, webhooks.OrgCreated}, Description: str("CRM"), DenySamplePercent: num(50)})
	if err != nil || secret != "" {
		t.Fatalf("edit events: %v, secret %q (want none)", err, secret)
	}
	if !slices.Equal(got.Events, []string{webhooks.OrgSuspended, webhooks.OrgCreated}) || got.Description != "CRM" ||
		got.DenySamplePercent != 50 || got.URL != sub.URL || !got.Enabled {
		t.Fatalf("after the edit: %+v", got)
	}

	// A new URL: a new secret, returned once, and deliveries signed with it.
	got, secret2, err := svc.UpdateSubscription(ctx, actor, sub.ID, webhooks.SubscriptionChange{URL: str(" " + nextSrv.URL + "/in ")})
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != nextSrv.URL+"/in" || !strings.HasPrefix(secret2, "whsec_") || secret2 == secret1 {
		t.Fatalf("new URL: %q, secret %q (old %q)", got.URL, secret2, secret1)
	}
	// The same URL again is no change of URL: no new secret.
	if _, s, err := svc.UpdateSubscription(ctx, actor, sub.ID, webhooks.SubscriptionChange{URL: str(nextSrv.URL + "/in")}); err != nil || s != "" {
		t.Fatalf("unchanged URL: %v, secret %q", err, s)
	}
	suspendOrg(t, st, "acme")
	d := dispatcher(st, sealer)
	for deadline := time.Now().Add(5 * time.Second); len(next.requests()) < 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing reached the new URL")
		}
		d.RunOnce(ctx)
	}
	r := next.requests()[0]
	verifyIndependently(t, secret2, r.header, r.body)
	if n := len(old.requests()); n != 0 {
		t.Fatalf("%d requests reached the old URL", n)
	}

	ups := auditOf(t, st, "webhook.update")
	if len(ups) != 3 {
		t.Fatalf("%d webhook.update audit events, want 3", len(ups))
	}
	for _, e := range ups {
		if strings.Contains(string(e.Before)+string(e.After), "whsec_") || strings.Contains(string(e.After), "secret_sealed") {
			t.Fatalf("audit event holds a secret: %s %s", e.Before, e.After)
		}
	}
	if _, _, err := svc.UpdateSubscription(ctx, actor, "wh_nope", webhooks.SubscriptionChange{Description: str("x")}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("editing an unknown subscription: %v", err)
	}
}

package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WebhookSubscription is one outgoing webhook endpoint.
type WebhookSubscription struct {
	ID          string
	URL         string
	Events      []string
	Description string
	// SecretSealed is the signing secret ("whsec_…") sealed with the
	// secret key; only the webhooks package opens it.
	SecretSealed      []byte
	DenySamplePercent int
	Enabled           bool
	CreatedAt         time.Time
}

// Sealed secrets are binary; their TEXT columns hold them in base64.
func sealedText(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func sealedBytes(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

// Wants reports whether the subscription takes events of type ev.
func (w WebhookSubscription) Wants(ev string) bool {
	for _, e := range w.Events {
		if e == ev || e == "*" {
			return true
		}
	}
	return false
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // given up after the last retry
)

// WebhookDelivery is one event for one subscription: a queue entry while
// pending, the delivery log afterwards.
type WebhookDelivery struct {
	ID             string
	SubscriptionID string
	Event          string
	Payload        []byte
	Status         string
	Attempts       int
	NextAt         time.Time
	LastStatus     int
	LastError      string
	CreatedAt      time.Time
	DeliveredAt    time.Time
}

const webhookSubCols = `id, url, events, description, secret_sealed, deny_sample_percent, enabled, created_at`

func scanWebhookSub(row interface{ Scan(...any) error }) (WebhookSubscription, error) {
	var w WebhookSubscription
	var events, sealed string
	var enabled int
	var created int64
	err := row.Scan(&w.ID, &w.URL, &events, &w.Description, &sealed, &w.DenySamplePercent, &enabled, &created)
	w.Events, w.SecretSealed, w.Enabled, w.CreatedAt = strings.Fields(events), sealedBytes(sealed), enabled == 1, fromMS(created)
	return w, err
}

// CreateWebhookSubscription stores w, assigning its ID and time.
func (s *Store) CreateWebhookSubscription(ctx context.Context, w *WebhookSubscription) error {
	if w.ID == "" {
		w.ID = NewID()
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.Now()
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO webhook_subscriptions (`+webhookSubCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.URL, strings.Join(w.Events, " "), w.Description, sealedText(w.SecretSealed), w.DenySamplePercent,
		boolInt(w.Enabled), ms(w.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create webhook subscription: %w", err)
	}
	return nil
}

// WebhookSubscriptions lists every subscription, oldest first.
func (s *Store) WebhookSubscriptions(ctx context.Context) ([]WebhookSubscription, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+webhookSubCols+` FROM webhook_subscriptions ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: webhook subscriptions: %w", err)
	}
	defer rows.Close()
	var out []WebhookSubscription
	for rows.Next() {
		w, err := scanWebhookSub(rows)
		if err != nil {
			return nil, fmt.Errorf("store: webhook subscriptions: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// WebhookSubscription returns one subscription (locked for the rest of
// the transaction when read inside one).
func (s *Store) WebhookSubscription(ctx context.Context, id string) (WebhookSubscription, error) {
	w, err := scanWebhookSub(s.q.QueryRowContext(ctx, `SELECT `+webhookSubCols+` FROM webhook_subscriptions WHERE id = ?`+s.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	}
	return w, err
}

// UpdateWebhookSubscription stores w's URL, events, description, sealed
// secret, sample and enabled flag.
func (s *Store) UpdateWebhookSubscription(ctx context.Context, w WebhookSubscription) error {
	res, err := s.q.ExecContext(ctx, `UPDATE webhook_subscriptions SET url = ?, events = ?, description = ?, secret_sealed = ?,
		deny_sample_percent = ?, enabled = ? WHERE id = ?`, w.URL, strings.Join(w.Events, " "), w.Description,
		sealedText(w.SecretSealed), w.DenySamplePercent, boolInt(w.Enabled), w.ID)
	if err != nil {
		return fmt.Errorf("store: update webhook subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteWebhookSubscription deletes a subscription and its deliveries.
func (s *Store) DeleteWebhookSubscription(ctx context.Context, id string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete webhook subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// EnqueueWebhookDeliveries queues deliveries. An ID already queued is
// skipped, so deriving the ID from the event and the subscription makes a
// retried enqueue (after a crash, or by another replica) harmless.
func (s *Store) EnqueueWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) (int, error) {
	n := 0
	for _, d := range ds {
		if d.CreatedAt.IsZero() {
			d.CreatedAt = s.Now()
		}
		if d.NextAt.IsZero() {
			d.NextAt = d.CreatedAt
		}
		res, err := s.q.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, subscription_id, event, payload, status, next_at, created_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (id) DO NOTHING`,
			d.ID, d.SubscriptionID, d.Event, string(d.Payload), ms(d.NextAt), ms(d.CreatedAt))
		if err != nil {
			return n, fmt.Errorf("store: enqueue webhook delivery: %w", err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

const webhookDeliveryCols = `id, subscription_id, event, payload, status, attempts, next_at, last_status, last_error, created_at, delivered_at`

func scanWebhookDelivery(row interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var d WebhookDelivery
	var payload string
	var next, created, delivered int64
	err := row.Scan(&d.ID, &d.SubscriptionID, &d.Event, &payload, &d.Status, &d.Attempts, &next, &d.LastStatus,
		&d.LastError, &created, &delivered)
	d.Payload, d.NextAt, d.CreatedAt = []byte(payload), fromMS(next), fromMS(created)
	if delivered > 0 {
		d.DeliveredAt = fromMS(delivered)
	}
	return d, err
}

// subscriptionEnabled keeps deliveries of paused subscriptions where they
// are: not due, not claimed, no attempt spent, until the subscription is
// resumed.
const subscriptionEnabled = `subscription_id IN (SELECT id FROM webhook_subscriptions WHERE enabled = 1)`

// DueWebhookDeliveries lists up to limit IDs of pending deliveries due at
// now, not leased by a replica, of subscriptions that are not paused.
func (s *Store) DueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_at <= ?
		AND claimed_until <= ? AND `+subscriptionEnabled+` ORDER BY next_at LIMIT ?`, ms(now), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due webhook deliveries: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// ClaimWebhookDelivery leases a due delivery until leaseUntil and counts
// the attempt. ok is false when another replica claimed it first (or it is
// no longer due): one conditional UPDATE decides, on either engine.
func (s *Store) ClaimWebhookDelivery(ctx context.Context, id string, now, leaseUntil time.Time) (d WebhookDelivery, ok bool, err error) {
	res, err := s.q.ExecContext(ctx, `UPDATE webhook_deliveries SET claimed_until = ?, attempts = attempts + 1
		WHERE id = ? AND status = 'pending' AND next_at <= ? AND claimed_until <= ? AND `+subscriptionEnabled,
		ms(leaseUntil), id, ms(now), ms(now))
	if err != nil {
		return d, false, fmt.Errorf("store: claim webhook delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return d, false, nil
	}
	d, err = s.WebhookDelivery(ctx, id)
	return d, err == nil, err
}

// WebhookDelivery returns one delivery.
func (s *Store) WebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error) {
	d, err := scanWebhookDelivery(s.q.QueryRowContext(ctx, `SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	return d, err
}

// FinishWebhookAttempt records an attempt's outcome and releases the
// lease: status delivered, failed (given up), or pending again at nextAt.
func (s *Store) FinishWebhookAttempt(ctx context.Context, id, status string, httpStatus int, errText string, nextAt, deliveredAt time.Time) error {
	var delivered int64
	if !deliveredAt.IsZero() {
		delivered = ms(deliveredAt)
	}
	if len(errText) > 500 {
		errText = errText[:500]
	}
	_, err := s.q.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, last_status = ?, last_error = ?, next_at = ?,
		claimed_until = 0, delivered_at = ? WHERE id = ?`, status, httpStatus, errText, ms(nextAt), delivered, id)
	if err != nil {
		return fmt.Errorf("store: finish webhook attempt: %w", err)
	}
	return nil
}

// RedeliverWebhook queues a delivery again now, whatever its state, with a
// fresh count of attempts.
func (s *Store) RedeliverWebhook(ctx context.Context, id string, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_at = ?,
		claimed_until = 0 WHERE id = ?`, ms(now), id)
	if err != nil {
		return fmt.Errorf("store: redeliver webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// WebhookDeliveries lists the newest deliveries, of one subscription or
// (subID "") of all, optionally only those in status.
func (s *Store) WebhookDeliveries(ctx context.Context, subID, status string, limit int) ([]WebhookDelivery, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := `SELECT ` + webhookDeliveryCols + ` FROM webhook_deliveries WHERE (? = '' OR subscription_id = ?)
		AND (? = '' OR status = ?) ORDER BY created_at DESC, id DESC LIMIT ?`
	rows, err := s.q.QueryContext(ctx, q, subID, subID, status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		d, err := scanWebhookDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PendingWebhookDeliveries counts the deliveries waiting to be sent.
func (s *Store) PendingWebhookDeliveries(ctx context.Context) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'`).Scan(&n)
	return n, err
}

// FailingWebhooks counts, per subscription, deliveries given up or retried
// (attempts > 1 and not delivered) created since since.
func (s *Store) FailingWebhooks(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT subscription_id, COUNT(*) FROM webhook_deliveries
		WHERE created_at >= ? AND (status = 'failed' OR (status = 'pending' AND attempts > 0)) GROUP BY subscription_id`, ms(since))
	if err != nil {
		return nil, fmt.Errorf("store: failing webhooks: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// DeleteWebhookDeliveriesBefore deletes at most batch finished deliveries
// created before t (housekeeping).
func (s *Store) DeleteWebhookDeliveriesBefore(ctx context.Context, t time.Time, batch int) (int64, error) {
	// A read first: a DELETE takes the write lock even when nothing matches.
	var one int
	switch err := s.q.QueryRowContext(ctx, `SELECT 1 FROM webhook_deliveries WHERE created_at < ? AND status <> 'pending' LIMIT 1`, ms(t)).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("store: delete webhook deliveries: %w", err)
	}
	res, err := s.q.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
		WHERE created_at < ? AND status <> 'pending' ORDER BY created_at LIMIT ?)`, ms(t), batch)
	if err != nil {
		return 0, fmt.Errorf("store: delete webhook deliveries: %w", err)
	}
	return res.RowsAffected()
}

// ClaimAuditOutbox leases up to limit audit events of the outbox, oldest
// first, until leaseUntil, and returns them. Rows another replica leased
// are skipped; rows whose audit event is gone (retention) are dropped.
func (s *Store) ClaimAuditOutbox(ctx context.Context, now, leaseUntil time.Time, limit int) ([]AuditEvent, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT audit_id FROM audit_outbox WHERE claimed_until <= ? ORDER BY at, audit_id LIMIT ?`,
		ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit outbox: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []AuditEvent
	for _, id := range ids {
		res, err := s.q.ExecContext(ctx, `UPDATE audit_outbox SET claimed_until = ? WHERE audit_id = ? AND claimed_until <= ?`,
			ms(leaseUntil), id, ms(now))
		if err != nil {
			return out, fmt.Errorf("store: claim audit outbox: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue
		}
		e, err := scanAudit(s.q.QueryRowContext(ctx, `SELECT id, at, COALESCE(org_id, ''), actor_id, actor, action, target_type,
			target_id, COALESCE(before, ''), COALESCE(after, '') FROM audit_events WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			if err := s.DoneAuditOutbox(ctx, []string{id}); err != nil {
				return out, err
			}
			continue
		}
		if err != nil {
			return out, fmt.Errorf("store: audit outbox event: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// DoneAuditOutbox removes handled audit events from the outbox.
func (s *Store) DoneAuditOutbox(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if _, err := s.q.ExecContext(ctx, `DELETE FROM audit_outbox WHERE audit_id = ?`, id); err != nil {
			return fmt.Errorf("store: audit outbox done: %w", err)
		}
	}
	return nil
}

// InboundHook is a signed endpoint another system calls (the billing
// system): its secret is sealed like a webhook subscription's.
type InboundHook struct {
	ID           string
	Name         string
	SecretSealed []byte
	CreatedAt    time.Time
}

// CreateInboundHook stores h; its name is unique (ErrAlreadyExists).
func (s *Store) CreateInboundHook(ctx context.Context, h *InboundHook) error {
	if h.ID == "" {
		h.ID = NewID()
	}
	if h.CreatedAt.IsZero() {
		h.CreatedAt = s.Now()
	}
	res, err := s.q.ExecContext(ctx, `INSERT INTO inbound_hooks (id, name, secret_sealed, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, h.ID, h.Name, sealedText(h.SecretSealed), ms(h.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: create inbound hook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrAlreadyExists
	}
	return nil
}

// InboundHooks lists the inbound hooks by name.
func (s *Store) InboundHooks(ctx context.Context) ([]InboundHook, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, name, secret_sealed, created_at FROM inbound_hooks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: inbound hooks: %w", err)
	}
	defer rows.Close()
	var out []InboundHook
	for rows.Next() {
		var h InboundHook
		var sealed string
		var created int64
		if err := rows.Scan(&h.ID, &h.Name, &sealed, &created); err != nil {
			return nil, err
		}
		h.SecretSealed, h.CreatedAt = sealedBytes(sealed), fromMS(created)
		out = append(out, h)
	}
	return out, rows.Err()
}

// InboundHook returns one inbound hook by ID.
func (s *Store) InboundHook(ctx context.Context, id string) (InboundHook, error) {
	var h InboundHook
	var sealed string
	var created int64
	err := s.q.QueryRowContext(ctx, `SELECT id, name, secret_sealed, created_at FROM inbound_hooks WHERE id = ?`, id).
		Scan(&h.ID, &h.Name, &sealed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	h.SecretSealed, h.CreatedAt = sealedBytes(sealed), fromMS(created)
	return h, err
}

// DeleteInboundHook deletes an inbound hook by name.
func (s *Store) DeleteInboundHook(ctx context.Context, name string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM inbound_hooks WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("store: delete inbound hook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SeeInboundMessage records a message ID of hook; fresh is false when it
// was seen before (a replay).
func (s *Store) SeeInboundMessage(ctx context.Context, hookID, messageID string, at time.Time) (fresh bool, err error) {
	res, err := s.q.ExecContext(ctx, `INSERT INTO inbound_hook_seen (hook_id, message_id, at) VALUES (?, ?, ?)
		ON CONFLICT (hook_id, message_id) DO NOTHING`, hookID, messageID, ms(at))
	if err != nil {
		return false, fmt.Errorf("store: inbound message: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ForgetInboundMessage removes a recorded message ID.
func (s *Store) ForgetInboundMessage(ctx context.Context, hookID, messageID string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM inbound_hook_seen WHERE hook_id = ? AND message_id = ?`, hookID, messageID)
	return err
}

// DeleteInboundSeenBefore forgets message IDs older than t: the timestamp
// tolerance refuses such messages anyway.
func (s *Store) DeleteInboundSeenBefore(ctx context.Context, t time.Time) error {
	var one int
	switch err := s.q.QueryRowContext(ctx, `SELECT 1 FROM inbound_hook_seen WHERE at < ? LIMIT 1`, ms(t)).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	}
	_, err := s.q.ExecContext(ctx, `DELETE FROM inbound_hook_seen WHERE at < ?`, ms(t))
	return err
}

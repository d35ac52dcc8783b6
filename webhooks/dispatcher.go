package webhooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"portico/netguard"
	"portico/store"
)

// Metrics hears of deliveries and of the audit stream (metrics.Metrics
// implements it).
type Metrics interface {
	WebhookDelivery(event, result string, d time.Duration)
	AuditStreamed(result string)
}

// AuditSink receives audit events for a SIEM (stream.go).
type AuditSink interface {
	Send(ctx context.Context, events []store.AuditEvent) error
}

// Dispatcher turns the outbox and the partnership windows into deliveries
// and sends what is due. Several replicas may run one each: every row is
// claimed by a conditional UPDATE before it is handled.
type Dispatcher struct {
	Store  *store.Store
	Sealer *store.Sealer
	Log    *slog.Logger
	Now    func() time.Time
	// Client sends deliveries; nil means GuardedClient(nil), which refuses
	// loopback, private, link-local (cloud metadata) and other non-public
	// addresses. A client given here is used as is.
	Client *http.Client
	// Tick is how often the queue is looked at (default 1s).
	Tick time.Duration
	// Backoff is the wait after the first failure; each further failure
	// doubles it, up to 6 hours (default 30s). MaxAttempts is when a
	// delivery is given up (default 8).
	Backoff     time.Duration
	MaxAttempts int
	// EndingNotice is how long before a partnership ends partnership.ending
	// is sent (default 14 days); ScanEvery is how often windows are scanned
	// (default 1 minute).
	EndingNotice time.Duration
	ScanEvery    time.Duration
	// Stream, when set, receives every audit event (the SIEM stream).
	Stream  AuditSink
	Metrics Metrics

	subsMu   sync.Mutex
	subs     []store.WebhookSubscription
	subsAt   time.Time
	lastScan time.Time
}

func (d *Dispatcher) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Tick <= 0 {
		d.Tick = time.Second
	}
	if d.Backoff <= 0 {
		d.Backoff = 30 * time.Second
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 8
	}
	if d.EndingNotice <= 0 {
		d.EndingNotice = 14 * 24 * time.Hour
	}
	if d.ScanEvery <= 0 {
		d.ScanEvery = time.Minute
	}
	if d.Client == nil {
		d.Client = GuardedClient(nil)
	}
}

// GuardedClient is the client deliveries and the audit stream use: every
// connection goes through netguard (subscribers type the URLs, so a URL or
// a name resolving to an internal address must not reach it; allow is the
// operator's PORTICO_UPSTREAM_ALLOW), a 10 s timeout, and no redirects,
// which would let a receiver send the signed payload elsewhere.
func GuardedClient(allow []netip.Prefix) *http.Client {
	c := netguard.Guard{Allow: allow}.Client(netguard.ClientOptions{Timeout: 10 * time.Second})
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// Start runs the dispatcher until the returned stop is called; stop waits
// for the round in progress.
func (d *Dispatcher) Start(ctx context.Context) (stop func()) {
	d.defaults()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d.Tick)
		defer t.Stop()
		for {
			d.RunOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// RunOnce does one round: outbox, window scan (when due), deliveries.
// Errors are logged; the next round retries.
func (d *Dispatcher) RunOnce(ctx context.Context) {
	d.defaults()
	// On SQLite the one writer connection is shared with requests: a
	// background write must not sit out the whole busy timeout on it while
	// another process holds the lock. Its step gives up after two seconds
	// and the next round retries.
	bg, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := d.pumpOutbox(bg); err != nil && ctx.Err() == nil {
		d.Log.Warn("webhooks: audit outbox", "err", err)
	}
	if now := d.Now(); now.Sub(d.lastScan) >= d.ScanEvery {
		d.lastScan = now
		scan, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := d.scanPartnerships(scan, now); err != nil && ctx.Err() == nil {
			d.Log.Warn("webhooks: partnership scan", "err", err)
		}
		// The delivery log keeps 30 days; seen inbound message IDs only as
		// long as the timestamp tolerance could accept them again.
		if _, err := d.Store.DeleteWebhookDeliveriesBefore(scan, now.Add(-30*24*time.Hour), 1000); err != nil && ctx.Err() == nil {
			d.Log.Warn("webhooks: purging the delivery log", "err", err)
		}
		if err := d.Store.DeleteInboundSeenBefore(scan, now.Add(-2*InboundTolerance)); err != nil && ctx.Err() == nil {
			d.Log.Warn("webhooks: purging inbound message IDs", "err", err)
		}
	}
	if err := d.deliverDue(ctx); err != nil && ctx.Err() == nil {
		d.Log.Warn("webhooks: deliveries", "err", err)
	}
}

// subscriptions returns the enabled subscriptions, read at most once a
// second (the decision recorder asks for every batch).
func (d *Dispatcher) subscriptions(ctx context.Context) ([]store.WebhookSubscription, error) {
	d.subsMu.Lock()
	defer d.subsMu.Unlock()
	now := time.Now()
	if d.subs != nil && now.Sub(d.subsAt) < time.Second {
		return d.subs, nil
	}
	all, err := d.Store.WebhookSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	subs := []store.WebhookSubscription{}
	for _, w := range all {
		if w.Enabled {
			subs = append(subs, w)
		}
	}
	d.subs, d.subsAt = subs, now
	return subs, nil
}

// InboundTolerance is how far an inbound request's webhook-timestamp may
// be from now.
const InboundTolerance = 5 * time.Minute

// Event is the JSON body of every delivery.
type Event struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// deliveryID is derived from what caused the event and the subscription,
// so enqueueing the same event twice (a retried outbox lease, a second
// replica scanning the same window) queues it once.
func deliveryID(key, subID string) string {
	h := sha256.Sum256([]byte(key + "\x00" + subID))
	return "msg_" + hex.EncodeToString(h[:13])
}

// enqueue queues ev for every subscription that wants it; keep, when set,
// further filters subscriptions (sampling).
func (d *Dispatcher) enqueue(ctx context.Context, key string, ev Event, keep func(store.WebhookSubscription) bool) error {
	subs, err := d.subscriptions(ctx)
	if err != nil {
		return err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var ds []store.WebhookDelivery
	for _, w := range subs {
		if !w.Wants(ev.Type) || (keep != nil && !keep(w)) {
			continue
		}
		ds = append(ds, store.WebhookDelivery{ID: deliveryID(key, w.ID), SubscriptionID: w.ID, Event: ev.Type,
			Payload: body, CreatedAt: d.Now()})
	}
	if len(ds) == 0 {
		return nil
	}
	_, err = d.Store.EnqueueWebhookDeliveries(ctx, ds)
	return err
}

// pumpOutbox leases audit events from the outbox, queues the webhook
// events they mean, streams them to the SIEM, and removes them. A failure
// leaves them leased; the lease runs out and a later round retries
// (deliveries are deduplicated by ID; the stream may repeat an event).
func (d *Dispatcher) pumpOutbox(ctx context.Context) error {
	for range 20 { // at most 20 batches a round, so deliveries are not starved
		now := d.Now()
		events, err := d.Store.ClaimAuditOutbox(ctx, now, now.Add(time.Minute), 200)
		if err != nil || len(events) == 0 {
			return err
		}
		for _, e := range events {
			for _, ev := range eventsOfAudit(e) {
				if err := d.enqueue(ctx, "audit:"+e.ID+":"+ev.Type, ev, nil); err != nil {
					return err
				}
			}
		}
		if d.Stream != nil {
			if err := d.Stream.Send(ctx, events); err != nil {
				d.streamed("failed")
				return fmt.Errorf("audit stream: %w", err)
			}
			for range events {
				d.streamed("sent")
			}
		}
		ids := make([]string, len(events))
		for i, e := range events {
			ids[i] = e.ID
		}
		if err := d.Store.DoneAuditOutbox(ctx, ids); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dispatcher) streamed(result string) {
	if d.Metrics != nil {
		d.Metrics.AuditStreamed(result)
	}
}

// orgSummary is what events say about an organization (the audit log's
// JSON of store.Organization uses Go field names).
type orgSummary struct {
	ID         string
	Slug       string
	Name       string
	Status     string
	PlanID     string
	ValidUntil time.Time
}

func (o orgSummary) data() map[string]any {
	m := map[string]any{"id": o.ID, "slug": o.Slug, "name": o.Name, "status": o.Status, "plan_id": o.PlanID}
	if !o.ValidUntil.IsZero() {
		m["valid_until"] = o.ValidUntil.UTC().Format(time.RFC3339)
	} else {
		m["valid_until"] = nil
	}
	return m
}

// eventsOfAudit maps one audit event to the webhook events it means (none
// for most). Payloads name objects by ID; they never carry the audit
// record's before/after (secrets' metadata, personal data).
func eventsOfAudit(e store.AuditEvent) []Event {
	base := func(typ string) Event {
		return Event{Type: typ, Timestamp: e.At.UTC(), Data: map[string]any{"audit_id": e.ID, "org_id": e.OrgID,
			"actor": e.Actor, "target_type": e.TargetType, "target_id": e.TargetID}}
	}
	var before, after orgSummary
	if len(e.Before) > 0 {
		json.Unmarshal(e.Before, &before)
	}
	if len(e.After) > 0 {
		json.Unmarshal(e.After, &after)
	}
	withOrg := func(typ string) Event {
		ev := base(typ)
		ev.Data["organization"] = after.data()
		return ev
	}
	switch e.Action {
	case "org.create":
		return []Event{withOrg(OrgCreated)}
	case "org.update":
		var out []Event
		if before.Status != "suspended" && after.Status == "suspended" {
			out = append(out, withOrg(OrgSuspended))
		}
		if before.Status == "suspended" && after.Status == "active" {
			out = append(out, withOrg(OrgReactivated))
		}
		if before.PlanID != after.PlanID {
			ev := withOrg(OrgPlanChanged)
			ev.Data["previous_plan_id"] = before.PlanID
			out = append(out, ev)
		}
		return out
	case "member.join":
		return []Event{base(MemberJoined)}
	case "member.remove":
		return []Event{base(MemberRemoved)}
	case "client.create":
		return []Event{base(AppCreated)}
	case "client.rotate_secret":
		return []Event{base(AppSecretRotated)}
	case "policy.create", "policy.save":
		return []Event{base(PolicyPublished)}
	}
	return nil
}

// scanPartnerships queues partnership.ending for partnerships that end
// within EndingNotice and partnership.ended for those that ended in the
// last week (once per organization and end date, across replicas).
func (d *Dispatcher) scanPartnerships(ctx context.Context, now time.Time) error {
	for _, k := range []struct {
		typ      string
		from, to time.Time
	}{{PartnershipEnds, now, now.Add(d.EndingNotice)}, {PartnershipEnded, now.Add(-7 * 24 * time.Hour), now}} {
		orgs, err := d.Store.OrganizationsEndingBetween(ctx, k.from, k.to, 1000)
		if err != nil {
			return err
		}
		for _, o := range orgs {
			if k.typ == PartnershipEnds && o.Status == store.OrgSuspended {
				continue
			}
			s := orgSummary{ID: o.ID, Slug: o.Slug, Name: o.Name, Status: string(o.Status), PlanID: o.PlanID, ValidUntil: o.ValidUntil}
			ev := Event{Type: k.typ, Timestamp: now.UTC(), Data: map[string]any{"org_id": o.ID, "organization": s.data()}}
			if k.typ == PartnershipEnds {
				ev.Data["days_left"] = int(o.ValidUntil.Sub(now).Hours() / 24)
			}
			key := fmt.Sprintf("%s:%s:%d", k.typ, o.ID, o.ValidUntil.UnixMilli())
			if err := d.enqueue(ctx, key, ev, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// DecisionsDenied queues decision.denied for the denies of a decision-log
// batch, sampled per subscription. The decision recorder calls it from its
// writer goroutine, never from a request.
func (d *Dispatcher) DecisionsDenied(ctx context.Context, batch []store.Decision) {
	d.defaults()
	for _, dec := range batch {
		if dec.Action != "deny" {
			continue
		}
		ev := Event{Type: DecisionDenied, Timestamp: dec.At.UTC(), Data: map[string]any{"decision_id": dec.ID,
			"point": dec.Point, "org_id": dec.OrgID, "user_id": dec.UserID, "client_id": dec.ClientID,
			"policy_id": dec.PolicyID, "policy_version": dec.PolicyVersion, "rule": dec.Rule, "reason": dec.Reason}}
		// The same decision is in or out of a subscription's sample on
		// every replica: the choice hashes the decision ID.
		h := sha256.Sum256([]byte(dec.ID))
		bucket := int(binary.BigEndian.Uint32(h[:4]) % 100)
		keep := func(w store.WebhookSubscription) bool { return bucket < w.DenySamplePercent }
		if err := d.enqueue(ctx, "decision:"+dec.ID, ev, keep); err != nil {
			d.Log.Warn("webhooks: decision.denied", "err", err)
			return
		}
	}
}

// deliverDue sends the deliveries that are due, each claimed first.
func (d *Dispatcher) deliverDue(ctx context.Context) error {
	now := d.Now()
	ids, err := d.Store.DueWebhookDeliveries(ctx, now, 50)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil
		}
		lease := d.Client.Timeout + 30*time.Second
		del, ok, err := d.Store.ClaimWebhookDelivery(ctx, id, now, now.Add(lease))
		if err != nil {
			return err
		}
		if !ok {
			continue // another replica has it
		}
		d.attempt(ctx, del)
	}
	return nil
}

// attempt sends one delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, del store.WebhookDelivery) {
	start := time.Now()
	code, err := d.send(ctx, del)
	took := time.Since(start)
	now := d.Now()
	if err == nil && code >= 200 && code < 300 {
		d.observe(del.Event, "delivered", took)
		if err := d.Store.FinishWebhookAttempt(ctx, del.ID, store.DeliveryDelivered, code, "", now, now); err != nil {
			d.Log.Warn("webhooks: recording a delivery", "err", err)
		}
		return
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	} else {
		msg = fmt.Sprintf("HTTP %d", code)
	}
	status, next, result := store.DeliveryPending, now.Add(d.backoff(del.Attempts)), "failed"
	if del.Attempts >= d.MaxAttempts {
		status, next, result = store.DeliveryFailed, now, "gave_up"
	}
	d.observe(del.Event, result, took)
	if err := d.Store.FinishWebhookAttempt(ctx, del.ID, status, code, msg, next, time.Time{}); err != nil {
		d.Log.Warn("webhooks: recording a failed delivery", "err", err)
	}
}

func (d *Dispatcher) observe(event, result string, took time.Duration) {
	if d.Metrics != nil {
		d.Metrics.WebhookDelivery(event, result, took)
	}
}

// backoff is the wait after the attempts-th failure: Backoff doubled each
// time, at most 6 hours.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	w := d.Backoff
	for i := 1; i < attempts && w < 6*time.Hour; i++ {
		w *= 2
	}
	return min(w, 6*time.Hour)
}

func (d *Dispatcher) send(ctx context.Context, del store.WebhookDelivery) (int, error) {
	w, err := d.Store.WebhookSubscription(ctx, del.SubscriptionID)
	if err != nil {
		return 0, err
	}
	secret, err := d.Sealer.Open(w.SecretSealed, purposeSubscription)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(del.Payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Portico-Webhooks")
	if err := SetHeaders(req.Header, string(secret), del.ID, d.Now(), del.Payload); err != nil {
		return 0, err
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

package webhooks

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"portico/store"
)

// The event types a subscription can ask for.
const (
	OrgCreated       = "organization.created"
	OrgSuspended     = "organization.suspended"
	OrgReactivated   = "organization.reactivated"
	OrgPlanChanged   = "organization.plan_changed"
	PartnershipEnds  = "partnership.ending"
	PartnershipEnded = "partnership.ended"
	MemberJoined     = "member.joined"
	MemberRemoved    = "member.removed"
	AppCreated       = "app.created"
	AppSecretRotated = "app.secret_rotated"
	PolicyPublished  = "policy.version_published"
	DecisionDenied   = "decision.denied"
)

// Events lists every event type, in the order the portal shows them.
var Events = []string{OrgCreated, OrgSuspended, OrgReactivated, OrgPlanChanged, PartnershipEnds, PartnershipEnded,
	MemberJoined, MemberRemoved, AppCreated, AppSecretRotated, PolicyPublished, DecisionDenied}

// FieldErrors maps a form field to what is wrong with it.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Service manages subscriptions and inbound hooks, with audit. The portal
// and the CLI are two front doors onto it.
type Service struct {
	Store  *store.Store
	Sealer *store.Sealer
	Now    func() time.Time
}

const (
	purposeSubscription = "webhook-subscription"
	purposeInbound      = "inbound-hook"
)

// SubscriptionInput is what an admin gives to create a subscription.
type SubscriptionInput struct {
	URL         string
	Events      []string
	Description string
	// DenySamplePercent is the share of decision.denied events sent
	// (1–100); 0 means 100.
	DenySamplePercent int
}

// validURL accepts https URLs, and http ones on loopback (development and
// tests; the dialer still refuses loopback outside PORTICO_UPSTREAM_ALLOW).
func validURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		if h == "localhost" {
			return true
		}
		a, err := netip.ParseAddr(h)
		return err == nil && a.IsLoopback()
	}
	return false
}

// checkURL, checkEvents and checkSample validate a subscription's fields,
// the same at creation and on an edit.
func checkURL(raw string, errs FieldErrors) string {
	raw = strings.TrimSpace(raw)
	if !validURL(raw) || len(raw) > 2000 {
		errs["url"] = "Give an https URL (http only on loopback), without user info or fragment."
	}
	return raw
}

func checkEvents(in []string, errs FieldErrors) []string {
	var events []string
	for _, e := range in {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		if !slices.Contains(Events, e) {
			errs["events"] = "Unknown event type " + e + "."
		} else if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if len(events) == 0 && errs["events"] == "" {
		errs["events"] = "Choose at least one event."
	}
	return events
}

func checkSample(n int, errs FieldErrors) int {
	if n == 0 {
		n = 100
	}
	if n < 1 || n > 100 {
		errs["deny_sample_percent"] = "Give a share between 1 and 100."
	}
	return n
}

func checkDescription(d string, errs FieldErrors) string {
	if len(d) > 200 {
		errs["description"] = "At most 200 characters."
	}
	return strings.TrimSpace(d)
}

// CreateSubscription validates in, stores the subscription with a fresh
// secret and audits it. The secret is returned once, to be shown once.
func (s *Service) CreateSubscription(ctx context.Context, actor store.Actor, in SubscriptionInput) (store.WebhookSubscription, string, error) {
	errs := FieldErrors{}
	w := store.WebhookSubscription{URL: checkURL(in.URL, errs), Events: checkEvents(in.Events, errs),
		Description: checkDescription(in.Description, errs), DenySamplePercent: checkSample(in.DenySamplePercent, errs),
		Enabled: true, CreatedAt: s.now()}
	if len(errs) > 0 {
		return store.WebhookSubscription{}, "", errs
	}
	secret := NewSecret()
	w.SecretSealed = s.Sealer.Seal([]byte(secret), purposeSubscription)
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateWebhookSubscription(ctx, &w); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event("", "webhook.create", "webhook", w.ID), nil, auditedSub(w))
	})
	return w, secret, err
}

// SubscriptionChange is an edit of a subscription; nil fields stay as
// they are.
type SubscriptionChange struct {
	URL               *string
	Events            []string // nil: unchanged; empty: refused
	Description       *string
	DenySamplePercent *int
}

// UpdateSubscription validates and applies ch to subscription id, and
// audits it. A new URL gets a new signing secret, returned once (else
// ""): the receiver at the old URL knows the old secret and must not be
// able to sign messages the new receiver would take for Portico's.
// Deliveries still queued go to the new URL, signed with the new secret.
func (s *Service) UpdateSubscription(ctx context.Context, actor store.Actor, id string, ch SubscriptionChange) (store.WebhookSubscription, string, error) {
	var w store.WebhookSubscription
	var secret string
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		before, err := tx.WebhookSubscription(ctx, id)
		if err != nil {
			return err
		}
		w = before
		errs := FieldErrors{}
		if ch.URL != nil {
			w.URL = checkURL(*ch.URL, errs)
		}
		if ch.Events != nil {
			w.Events = checkEvents(ch.Events, errs)
		}
		if ch.Description != nil {
			w.Description = checkDescription(*ch.Description, errs)
		}
		if ch.DenySamplePercent != nil {
			w.DenySamplePercent = checkSample(*ch.DenySamplePercent, errs)
		}
		if len(errs) > 0 {
			return errs
		}
		after := auditedSub(w)
		if w.URL != before.URL {
			if s.Sealer == nil {
				return errors.New("webhooks: no secret key to seal a new signing secret")
			}
			secret = NewSecret()
			w.SecretSealed = s.Sealer.Seal([]byte(secret), purposeSubscription)
			after["secret_rotated"] = true
		}
		if err := tx.UpdateWebhookSubscription(ctx, w); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event("", "webhook.update", "webhook", id), auditedSub(before), after)
	})
	if err != nil {
		return store.WebhookSubscription{}, "", err
	}
	return w, secret, nil
}

// SetSubscriptionEnabled pauses (enabled false) or resumes a subscription
// and audits it. A paused subscription is not sent anything: events are
// not queued for it, and deliveries already queued wait, spending no
// attempts, until it is resumed.
func (s *Service) SetSubscriptionEnabled(ctx context.Context, actor store.Actor, id string, enabled bool) (store.WebhookSubscription, error) {
	var w store.WebhookSubscription
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		before, err := tx.WebhookSubscription(ctx, id)
		if err != nil {
			return err
		}
		w = before
		w.Enabled = enabled
		if err := tx.UpdateWebhookSubscription(ctx, w); err != nil {
			return err
		}
		action := "webhook.resume"
		if !enabled {
			action = "webhook.pause"
		}
		return tx.Audit(ctx, actor.Event("", action, "webhook", id), auditedSub(before), auditedSub(w))
	})
	if err != nil {
		return store.WebhookSubscription{}, err
	}
	return w, nil
}

// auditedSub is what the audit log keeps of a subscription: never the
// sealed secret.
func auditedSub(w store.WebhookSubscription) map[string]any {
	return map[string]any{"id": w.ID, "url": w.URL, "events": w.Events, "description": w.Description,
		"deny_sample_percent": w.DenySamplePercent, "enabled": w.Enabled}
}

// DeleteSubscription deletes a subscription and its delivery log.
func (s *Service) DeleteSubscription(ctx context.Context, actor store.Actor, id string) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		w, err := tx.WebhookSubscription(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhookSubscription(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event("", "webhook.delete", "webhook", id), auditedSub(w), nil)
	})
}

// Redeliver queues a delivery again now.
func (s *Service) Redeliver(ctx context.Context, actor store.Actor, deliveryID string) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		d, err := tx.WebhookDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		if err := tx.RedeliverWebhook(ctx, deliveryID, s.now()); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event("", "webhook.redeliver", "webhook", d.SubscriptionID),
			nil, map[string]any{"delivery": d.ID, "event": d.Event})
	})
}

// CreateInboundHook stores a named inbound hook (the billing system's)
// with a fresh secret, returned once.
func (s *Service) CreateInboundHook(ctx context.Context, actor store.Actor, name string) (store.InboundHook, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 60 || strings.ContainsAny(name, " /?#") {
		return store.InboundHook{}, "", FieldErrors{"name": "Give a name of 1–60 characters without spaces or slashes."}
	}
	secret := NewSecret()
	h := store.InboundHook{Name: name, SecretSealed: s.Sealer.Seal([]byte(secret), purposeInbound), CreatedAt: s.now()}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateInboundHook(ctx, &h); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				return FieldErrors{"name": "An inbound hook of that name exists."}
			}
			return err
		}
		return tx.Audit(ctx, actor.Event("", "inbound_hook.create", "inbound_hook", h.ID), nil, map[string]any{"id": h.ID, "name": h.Name})
	})
	return h, secret, err
}

// DeleteInboundHook deletes an inbound hook by name.
func (s *Service) DeleteInboundHook(ctx context.Context, actor store.Actor, name string) error {
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteInboundHook(ctx, name); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event("", "inbound_hook.delete", "inbound_hook", name), map[string]any{"name": name}, nil)
	})
}

// VerifyInbound checks a request to inbound hook id: the hook exists, the
// signature matches its secret, the timestamp is within tolerance, and the
// webhook-id was not accepted before (replay). It returns the hook and the
// webhook-id, now recorded as seen.
func (s *Service) VerifyInbound(ctx context.Context, id string, h map[string][]string, body []byte, tolerance time.Duration) (store.InboundHook, string, error) {
	hook, err := s.Store.InboundHook(ctx, id)
	if err != nil {
		return hook, "", err
	}
	secret, err := s.Sealer.Open(hook.SecretSealed, purposeInbound)
	if err != nil {
		return hook, "", err
	}
	now := s.now()
	msgID, err := Verify(string(secret), h, body, now, tolerance)
	if err != nil {
		return hook, "", err
	}
	fresh, err := s.Store.SeeInboundMessage(ctx, hook.ID, msgID, now)
	if err != nil {
		return hook, "", err
	}
	if !fresh {
		return hook, "", ErrReplay
	}
	return hook, msgID, nil
}

// ForgetInbound un-records a webhook-id whose message failed on our side
// (a database error), so the sender's retry with the same ID is accepted.
func (s *Service) ForgetInbound(ctx context.Context, hookID, msgID string) error {
	return s.Store.ForgetInboundMessage(ctx, hookID, msgID)
}

// ErrReplay is a signed message whose webhook-id was accepted before.
var ErrReplay = errors.New("webhooks: message already received")

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

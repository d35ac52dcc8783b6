package adminapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"portico/store"
	"portico/webhooks"
)

// Webhook is an outgoing webhook subscription; its signing secret appears
// only in the answer that made it.
type Webhook struct {
	ID                string    `json:"id"`
	URL               string    `json:"url"`
	Events            []string  `json:"events"`
	Description       string    `json:"description,omitempty"`
	DenySamplePercent int       `json:"deny_sample_percent"`
	Enabled           bool      `json:"enabled"`
	CreatedAt         time.Time `json:"created_at"`
	Secret            string    `json:"secret,omitempty"`
}

// WebhookBody subscribes a URL to events (GET /webhook-events lists them).
type WebhookBody struct {
	URL               string   `json:"url"`
	Events            []string `json:"events"`
	Description       string   `json:"description,omitempty"`
	DenySamplePercent int      `json:"deny_sample_percent,omitempty"`
}

// WebhookPatch edits a subscription; fields left out stay as they are. A
// new url gets a new signing secret, in this answer only.
type WebhookPatch struct {
	URL               *string   `json:"url,omitempty"`
	Events            *[]string `json:"events,omitempty"`
	Description       *string   `json:"description,omitempty"`
	DenySamplePercent *int      `json:"deny_sample_percent,omitempty"`
}

// Delivery is one queued or sent webhook delivery.
type Delivery struct {
	ID         string    `json:"id"`
	Webhook    string    `json:"webhook_id"`
	Event      string    `json:"event"`
	Status     string    `json:"status"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// InboundHook is a signed inbound hook (a billing system's); its secret
// appears only in the answer that made it.
type InboundHook struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"secret,omitempty"`
}

func inboundHookOut(h store.InboundHook) InboundHook {
	return InboundHook{ID: h.ID, Name: h.Name, Path: "/hooks/inbound/" + h.ID, CreatedAt: h.CreatedAt}
}

// inboundHook is the hook the path names, by ID (what its URL carries) or
// by name, as an organization is named by ID or slug.
func (a *API) inboundHook(c *call) (store.InboundHook, error) {
	ref := c.Param("hook")
	h, err := a.cfg.Store.InboundHook(c.ctx(), ref)
	if !errors.Is(err, store.ErrNotFound) {
		return h, err
	}
	hs, err := a.cfg.Store.InboundHooks(c.ctx())
	if err != nil {
		return store.InboundHook{}, err
	}
	for _, h := range hs {
		if h.Name == ref {
			return h, nil
		}
	}
	return store.InboundHook{}, store.ErrNotFound
}

func (a *API) getInboundHook(c *call) error {
	h, err := a.inboundHook(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, inboundHookOut(h))
}

// InboundHookBody names the calling system.
type InboundHookBody struct {
	Name string `json:"name"`
}

var errNoSealer = problem{Status: http.StatusServiceUnavailable, Detail: "The portal's secret key is not configured."}

// webhooks is the service behind the portal's webhook pages and the CLI's
// webhook and hook commands: validation and audit live there.
func (a *API) webhooks() *webhooks.Service {
	if a.cfg.Webhooks != nil {
		return a.cfg.Webhooks
	}
	return &webhooks.Service{Store: a.cfg.Store, Sealer: a.cfg.Sealer, Now: a.cfg.Now}
}

// canSeal reports whether new secrets can be sealed.
func (a *API) canSeal() bool {
	if a.cfg.Webhooks != nil {
		return a.cfg.Webhooks.Sealer != nil
	}
	return a.cfg.Sealer != nil
}

func webhookOut(s store.WebhookSubscription) Webhook {
	return Webhook{ID: s.ID, URL: s.URL, Events: s.Events, Description: s.Description, DenySamplePercent: s.DenySamplePercent,
		Enabled: s.Enabled, CreatedAt: s.CreatedAt}
}

func (a *API) listWebhooks(c *call) error {
	subs, err := a.cfg.Store.WebhookSubscriptions(c.ctx())
	if err != nil {
		return err
	}
	out := make([]Webhook, 0, len(subs))
	for _, s := range subs {
		out = append(out, webhookOut(s))
	}
	return list(c, out, store.PageInfo{})
}

func (a *API) getWebhook(c *call) error {
	s, err := a.cfg.Store.WebhookSubscription(c.ctx(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.withETag(webhookOut(s))
}

func (a *API) createWebhook(c *call) error {
	if !a.canSeal() {
		return errNoSealer
	}
	var b WebhookBody
	if err := c.bind(&b); err != nil {
		return err
	}
	sub, secret, err := a.webhooks().CreateSubscription(c.ctx(), c.actor(), webhooks.SubscriptionInput{URL: b.URL, Events: b.Events,
		Description: b.Description, DenySamplePercent: b.DenySamplePercent})
	if err != nil {
		return err
	}
	out := webhookOut(sub)
	out.Secret = secret
	return c.created("/webhooks/"+sub.ID, out)
}

func (a *API) updateWebhook(c *call) error {
	var b WebhookPatch
	if err := c.bind(&b); err != nil {
		return err
	}
	ch := webhooks.SubscriptionChange{URL: b.URL, Description: b.Description, DenySamplePercent: b.DenySamplePercent}
	if b.Events != nil {
		ch.Events = append([]string{}, *b.Events...)
	}
	if b.URL != nil && !a.canSeal() {
		return errNoSealer
	}
	var sub store.WebhookSubscription
	var secret string
	// The If-Match check and the edit see the same row: one transaction,
	// in which the service's own transaction nests.
	err := a.cfg.Store.InTx(c.ctx(), func(tx *store.Store) error {
		cur, err := tx.WebhookSubscription(c.ctx(), c.Param("id"))
		if err != nil {
			return err
		}
		if err := c.ifMatch(webhookOut(cur)); err != nil {
			return err
		}
		svc := *a.webhooks()
		svc.Store = tx
		sub, secret, err = svc.UpdateSubscription(c.ctx(), c.actor(), cur.ID, ch)
		return err
	})
	if err != nil {
		return err
	}
	// The ETag is the subscription's as a GET shows it: without the secret.
	c.Response().Header().Set("ETag", etagOf(webhookOut(sub)))
	out := webhookOut(sub)
	if out.Secret = secret; secret != "" {
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	return c.json(http.StatusOK, out)
}

// setWebhookEnabled pauses (false) or resumes (true) a subscription.
func (a *API) setWebhookEnabled(enabled bool) func(c *call) error {
	return func(c *call) error {
		sub, err := a.webhooks().SetSubscriptionEnabled(c.ctx(), c.actor(), c.Param("id"), enabled)
		if err != nil {
			return err
		}
		return c.withETag(webhookOut(sub))
	}
}

func (a *API) deleteWebhook(c *call) error {
	if err := a.webhooks().DeleteSubscription(c.ctx(), c.actor(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

var deliveryQuery = []queryParam{
	{"webhook_id", "only this subscription's"},
	{"status", "only pending, delivered or failed"},
	{"limit", "at most this many, newest first (1-500, default 50)"},
}

func (a *API) listDeliveries(c *call) error {
	switch c.QueryParam("status") {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed:
	default:
		// An unknown status would match nothing: say so rather than answer
		// an empty log that looks like "no failures".
		return problem{Status: http.StatusBadRequest, Detail: "status must be pending, delivered or failed."}
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return problem{Status: http.StatusBadRequest, Detail: "limit must be a number from 1 to 500."}
		}
		limit = n
	}
	ds, err := a.cfg.Store.WebhookDeliveries(c.ctx(), c.QueryParam("webhook_id"), c.QueryParam("status"), limit)
	if err != nil {
		return err
	}
	out := make([]Delivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, Delivery{ID: d.ID, Webhook: d.SubscriptionID, Event: d.Event, Status: d.Status, Attempts: d.Attempts,
			LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt})
	}
	return list(c, out, store.PageInfo{})
}

func (a *API) redeliver(c *call) error {
	if err := a.webhooks().Redeliver(c.ctx(), c.actor(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) webhookEvents(c *call) error {
	return list(c, append([]string(nil), webhooks.Events...), store.PageInfo{})
}

func (a *API) listInboundHooks(c *call) error {
	hs, err := a.cfg.Store.InboundHooks(c.ctx())
	if err != nil {
		return err
	}
	out := make([]InboundHook, 0, len(hs))
	for _, h := range hs {
		out = append(out, inboundHookOut(h))
	}
	return list(c, out, store.PageInfo{})
}

func (a *API) createInboundHook(c *call) error {
	if !a.canSeal() {
		return errNoSealer
	}
	var b InboundHookBody
	if err := c.bind(&b); err != nil {
		return err
	}
	h, secret, err := a.webhooks().CreateInboundHook(c.ctx(), c.actor(), strings.TrimSpace(b.Name))
	if err != nil {
		return err
	}
	out := inboundHookOut(h)
	out.Secret = secret
	return c.created("/hooks/"+h.ID, out)
}

func (a *API) deleteInboundHook(c *call) error {
	h, err := a.inboundHook(c)
	if err != nil {
		return err
	}
	if err := a.webhooks().DeleteInboundHook(c.ctx(), c.actor(), h.Name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

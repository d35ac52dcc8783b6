package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"portico/handlers"
	"portico/store"
	"portico/webhooks"
)

var cliWebhookActor = store.Actor{Label: "cli"}

func runWebhook(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "webhook", args, map[string]func(context.Context, *cli, []string) error{
		"create":     runWebhookCreate,
		"list":       runWebhookList,
		"delete":     runWebhookDelete,
		"update":     runWebhookUpdate,
		"pause":      runWebhookEnabled(false),
		"resume":     runWebhookEnabled(true),
		"deliveries": runWebhookDeliveries,
		"redeliver":  runWebhookRedeliver,
		"events":     runWebhookEvents,
	})
}

func webhookService(env *oauthEnv, c *cli) *webhooks.Service {
	return &webhooks.Service{Store: env.st, Sealer: env.sealer, Now: c.now}
}

func runWebhookCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("webhook create")
	f := c.oauthFlags(fs)
	u := fs.String("url", "", "https URL that receives the events (required)")
	desc := fs.String("description", "", "what the receiver is")
	var events multiFlag
	fs.Var(&events, "event", "an event type (repeatable; `portico webhook events` lists them)")
	sample := fs.Int("deny-sample", 100, "share of decision.denied events sent, 1-100 (percent)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	var list []string
	for _, e := range events {
		list = append(list, strings.Split(e, ",")...)
	}
	sub, secret, err := webhookService(env, c).CreateSubscription(ctx, cliWebhookActor,
		webhooks.SubscriptionInput{URL: *u, Events: list, Description: *desc, DenySamplePercent: *sample})
	if err != nil {
		return err
	}
	return c.output(*f.asJSON, map[string]any{"id": sub.ID, "url": sub.URL, "events": sub.Events, "secret": secret},
		fmt.Sprintf("created webhook %s for %s\nsigning secret (shown only now): %s", sub.ID, sub.URL, secret))
}

func runWebhookList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("webhook list")
	f := c.oauthFlags(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	subs, err := env.st.WebhookSubscriptions(ctx)
	if err != nil {
		return err
	}
	out := []webhookRow{}
	var lines []string
	for _, s := range subs {
		out = append(out, webhookRowOf(s))
		line := fmt.Sprintf("%s  %s  %s", s.ID, s.URL, strings.Join(s.Events, ","))
		if !s.Enabled {
			line += "  (paused)"
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = []string{"no webhooks"}
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

// webhookRow is a subscription as list, update, pause and resume print it.
type webhookRow struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
	DenySample  int      `json:"deny_sample_percent"`
	Enabled     bool     `json:"enabled"`
	Secret      string   `json:"secret,omitempty"`
}

func webhookRowOf(s store.WebhookSubscription) webhookRow {
	return webhookRow{ID: s.ID, URL: s.URL, Events: s.Events, Description: s.Description, DenySample: s.DenySamplePercent,
		Enabled: s.Enabled}
}

func runWebhookUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("webhook update")
	f := c.oauthFlags(fs)
	id := fs.String("id", "", "subscription ID (required)")
	u := fs.String("url", "", "a new https URL (gets a new signing secret, printed once)")
	desc := fs.String("description", "", "what the receiver is")
	var events multiFlag
	fs.Var(&events, "event", "an event type (repeatable; replaces the list; `portico webhook events` lists them)")
	sample := fs.Int("deny-sample", 100, "share of decision.denied events sent, 1-100 (percent)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	var ch webhooks.SubscriptionChange
	if flagSet(fs, "url") {
		ch.URL = u
	}
	if flagSet(fs, "description") {
		ch.Description = desc
	}
	if flagSet(fs, "deny-sample") {
		ch.DenySamplePercent = sample
	}
	if flagSet(fs, "event") {
		ch.Events = []string{}
		for _, e := range events {
			ch.Events = append(ch.Events, strings.Split(e, ",")...)
		}
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	sub, secret, err := webhookService(env, c).UpdateSubscription(ctx, cliWebhookActor, *id, ch)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no webhook %q", *id)
	}
	if err != nil {
		return err
	}
	row := webhookRowOf(sub)
	row.Secret = secret
	text := fmt.Sprintf("updated webhook %s: %s  %s", sub.ID, sub.URL, strings.Join(sub.Events, ","))
	if secret != "" {
		text += "\nnew signing secret for the new URL (shown only now): " + secret
	}
	return c.output(*f.asJSON, row, text)
}

// runWebhookEnabled is webhook pause (false) and resume (true).
func runWebhookEnabled(enabled bool) func(context.Context, *cli, []string) error {
	verb := map[bool]string{false: "pause", true: "resume"}[enabled]
	return func(ctx context.Context, c *cli, args []string) error {
		fs := c.newFlags("webhook " + verb)
		f := c.oauthFlags(fs)
		id := fs.String("id", "", "subscription ID (required)")
		if err := parseArgs(fs, args); err != nil {
			return err
		}
		env, err := c.openOAuth(ctx, f)
		if err != nil {
			return err
		}
		defer env.close()
		sub, err := webhookService(env, c).SetSubscriptionEnabled(ctx, cliWebhookActor, *id, enabled)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no webhook %q", *id)
		}
		if err != nil {
			return err
		}
		return c.output(*f.asJSON, webhookRowOf(sub), map[bool]string{false: "paused", true: "resumed"}[enabled]+" webhook "+sub.ID)
	}
}

func runWebhookDelete(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("webhook delete")
	f := c.oauthFlags(fs)
	id := fs.String("id", "", "subscription ID (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	if err := webhookService(env, c).DeleteSubscription(ctx, cliWebhookActor, *id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no webhook %q", *id)
		}
		return err
	}
	return c.output(*f.asJSON, map[string]string{"deleted": *id}, "deleted webhook "+*id)
}

func runWebhookDeliveries(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("webhook deliveries")
	f := c.oauthFlags(fs)
	id := fs.String("id", "", "subscription ID (default: all)")
	status := fs.String("status", "", "pending, delivered or failed (default: all)")
	limit := fs.Int("limit", 50, "at most this many, newest first (max 500)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	ds, err := env.st.WebhookDeliveries(ctx, *id, *status, *limit)
	if err != nil {
		return err
	}
	type row struct {
		ID         string    `json:"id"`
		Webhook    string    `json:"webhook_id"`
		Event      string    `json:"event"`
		Status     string    `json:"status"`
		Attempts   int       `json:"attempts"`
		LastStatus int       `json:"last_status,omitempty"`
		LastError  string    `json:"last_error,omitempty"`
		CreatedAt  time.Time `json:"created_at"`
	}
	out := []row{}
	var lines []string
	for _, d := range ds {
		out = append(out, row{d.ID, d.SubscriptionID, d.Event, d.Status, d.Attempts, d.LastStatus, d.LastError, d.CreatedAt})
		lines = append(lines, fmt.Sprintf("%s  %-28s %-9s attempts=%d %s", d.ID, d.Event, d.Status, d.Attempts, d.LastError))
	}
	if len(lines) == 0 {
		lines = []string{"no deliveries"}
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

func runWebhookRedeliver(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("webhook redeliver")
	f := c.oauthFlags(fs)
	id := fs.String("delivery", "", "delivery ID, msg_… (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	if err := webhookService(env, c).Redeliver(ctx, cliWebhookActor, *id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no delivery %q", *id)
		}
		return err
	}
	return c.output(*f.asJSON, map[string]string{"queued": *id}, "queued "+*id+" again")
}

func runWebhookEvents(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("webhook events")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	return c.output(*asJSON, webhooks.Events, strings.Join(webhooks.Events, "\n"))
}

func runHook(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "hook", args, map[string]func(context.Context, *cli, []string) error{
		"create": runHookCreate,
		"list":   runHookList,
		"delete": runHookDelete,
	})
}

func runHookCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("hook create")
	f := c.oauthFlags(fs)
	name := fs.String("name", "", "name of the calling system, e.g. billing (required)")
	issuer := fs.String("issuer", c.getenv("PORTICO_ISSUER"), "the portal's public URL, to print the hook's URL (env PORTICO_ISSUER)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	h, secret, err := webhookService(env, c).CreateInboundHook(ctx, cliWebhookActor, *name)
	if err != nil {
		return err
	}
	path := handlers.InboundHookPath + h.ID
	return c.output(*f.asJSON, map[string]string{"id": h.ID, "name": h.Name, "path": path, "secret": secret},
		fmt.Sprintf("created inbound hook %s: POST %s%s\nsigning secret (shown only now): %s", h.Name, strings.TrimRight(*issuer, "/"), path, secret))
}

func runHookList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("hook list")
	f := c.oauthFlags(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	hooks, err := env.st.InboundHooks(ctx)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	var lines []string
	for _, h := range hooks {
		out = append(out, map[string]string{"id": h.ID, "name": h.Name, "path": handlers.InboundHookPath + h.ID})
		lines = append(lines, fmt.Sprintf("%-20s %s%s", h.Name, handlers.InboundHookPath, h.ID))
	}
	if len(lines) == 0 {
		lines = []string{"no inbound hooks"}
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

func runHookDelete(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("hook delete")
	f := c.oauthFlags(fs)
	name := fs.String("name", "", "inbound hook name (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	if err := webhookService(env, c).DeleteInboundHook(ctx, cliWebhookActor, *name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no inbound hook %q", *name)
		}
		return err
	}
	return c.output(*f.asJSON, map[string]string{"deleted": *name}, "deleted inbound hook "+*name)
}

package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/store"
	"portico/views"
	"portico/webhooks"
)

// Webhooks serves the platform admin's webhook pages (subscriptions, the
// delivery log with redelivery, inbound hooks) and the inbound hook itself.
type Webhooks struct {
	Store    *store.Store
	Service  *webhooks.Service
	Partners *partners.Service
	Pages    *Pages
	Issuer   string
	Now      func() time.Time
}

// InboundHookPath is where inbound hooks are posted: + the hook's ID.
const InboundHookPath = "/hooks/inbound/"

// Mount registers the admin pages, all for platform admins only.
func (h *Webhooks) Mount(g *echo.Group) {
	h.Pages.AddNav("Webhooks", "/admin/webhooks", platformAdmins)
	a := g.Group("/admin", requireUser, requireRole(platformAdmins))
	a.GET("/webhooks", h.list)
	a.POST("/webhooks", h.create)
	a.GET("/webhooks/:id", h.deliveries)
	a.POST("/webhooks/:id/delete", h.delete)
	a.POST("/webhooks/:id/edit", h.edit)
	a.POST("/webhooks/:id/pause", h.setEnabled(false))
	a.POST("/webhooks/:id/resume", h.setEnabled(true))
	a.POST("/webhooks/deliveries/:id/redeliver", h.redeliver)
	a.POST("/hooks", h.createInbound)
	a.POST("/hooks/:name/delete", h.deleteInbound)
}

var webhookFlash = map[string]string{
	"deleted":     "The subscription was deleted.",
	"redelivered": "The delivery was queued again.",
	"hook-gone":   "The inbound hook was deleted.",
	"updated":     "The subscription was changed.",
	"paused":      "The subscription is paused.",
	"resumed":     "The subscription is active again.",
}

func (h *Webhooks) props(c echo.Context) (views.WebhooksProps, error) {
	ctx := c.Request().Context()
	subs, err := h.Store.WebhookSubscriptions(ctx)
	if err != nil {
		return views.WebhooksProps{}, err
	}
	failing, err := h.Store.FailingWebhooks(ctx, h.Now().Add(-24*time.Hour))
	if err != nil {
		return views.WebhooksProps{}, err
	}
	w := views.WebhooksProps{AllEvents: webhooks.Events, Form: views.WebhookForm{DenySample: "100"}}
	for _, s := range subs {
		w.Subscriptions = append(w.Subscriptions, webhookRow(s, failing[s.ID]))
	}
	hooks, err := h.Store.InboundHooks(ctx)
	if err != nil {
		return w, err
	}
	for _, ih := range hooks {
		w.Inbound = append(w.Inbound, views.InboundHookRow{ID: ih.ID, Name: ih.Name, URL: h.Issuer + InboundHookPath + ih.ID,
			Created: ih.CreatedAt.Format("2006-01-02")})
	}
	return w, nil
}

func webhookRow(s store.WebhookSubscription, failing int) views.WebhookRow {
	return views.WebhookRow{ID: s.ID, URL: s.URL, Events: s.Events, Description: s.Description,
		DenySample: s.DenySamplePercent, Created: s.CreatedAt.Format("2006-01-02"), Enabled: s.Enabled, Failing: failing}
}

func (h *Webhooks) list(c echo.Context) error {
	w, err := h.props(c)
	if err != nil {
		return err
	}
	p := h.Pages.Page(c, "Webhooks")
	p.Flash = doneFlash(c, webhookFlash)
	return render(c, http.StatusOK, views.Webhooks(p, w))
}

func (h *Webhooks) create(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	f := views.WebhookForm{URL: form.Get("url"), Description: form.Get("description"), Events: form["events"],
		DenySample: form.Get("deny_sample_percent")}
	sample := 100
	if f.DenySample != "" {
		if sample, err = strconv.Atoi(f.DenySample); err != nil {
			sample = -1 // refused below with the other problems
		}
	}
	sub, secret, err := h.Service.CreateSubscription(c.Request().Context(), actorOf(viewerFrom(c)), webhooks.SubscriptionInput{
		URL: f.URL, Events: f.Events, Description: f.Description, DenySamplePercent: sample})
	w, perr := h.props(c)
	if perr != nil {
		return perr
	}
	var fe webhooks.FieldErrors
	if errors.As(err, &fe) {
		f.Errors = views.FieldErrors(fe)
		w.Form = f
		return render(c, http.StatusUnprocessableEntity, views.Webhooks(h.Pages.Page(c, "Webhooks"), w))
	}
	if err != nil {
		return err
	}
	// The secret is shown on this answer only, never on a page that can be
	// loaded again.
	w.NewSecret, w.NewSecretFor = secret, sub.URL
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.Webhooks(h.Pages.Page(c, "Webhooks"), w))
}

func (h *Webhooks) delete(c echo.Context) error {
	err := h.Service.DeleteSubscription(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks?done=deleted")
}

func (h *Webhooks) deliveries(c echo.Context) error {
	d, err := h.subPage(c, c.Param("id"))
	if err != nil {
		return err
	}
	p := h.Pages.Page(c, "Webhook deliveries")
	p.Flash = doneFlash(c, webhookFlash)
	return render(c, http.StatusOK, views.WebhookDeliveries(p, d))
}

// subPage is one subscription's page: the delivery log, and the edit form
// filled in with what is stored.
func (h *Webhooks) subPage(c echo.Context, id string) (views.DeliveriesProps, error) {
	ctx := c.Request().Context()
	sub, err := h.Store.WebhookSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return views.DeliveriesProps{}, echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return views.DeliveriesProps{}, err
	}
	rows, err := h.Store.WebhookDeliveries(ctx, sub.ID, "", 100)
	if err != nil {
		return views.DeliveriesProps{}, err
	}
	d := views.DeliveriesProps{Sub: webhookRow(sub, 0), AllEvents: webhooks.Events, Form: views.WebhookForm{URL: sub.URL,
		Description: sub.Description, Events: sub.Events, DenySample: strconv.Itoa(sub.DenySamplePercent)}}
	for _, r := range rows {
		row := views.DeliveryRow{ID: r.ID, Event: r.Event, Status: r.Status, Attempts: r.Attempts, LastStatus: r.LastStatus,
			LastError: r.LastError, Created: r.CreatedAt.Format("2006-01-02 15:04:05")}
		if r.Status == store.DeliveryPending {
			row.Next = r.NextAt.Format("15:04:05")
		}
		if !r.DeliveredAt.IsZero() {
			row.Delivered = r.DeliveredAt.Format("2006-01-02 15:04:05")
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// edit changes a subscription from its page. A new URL comes with a new
// signing secret, shown on this answer only.
func (h *Webhooks) edit(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	f := views.WebhookForm{URL: form.Get("url"), Description: form.Get("description"), Events: form["events"],
		DenySample: form.Get("deny_sample_percent")}
	sample := 100
	if f.DenySample != "" {
		if sample, err = strconv.Atoi(f.DenySample); err != nil {
			sample = -1 // refused with the other problems
		}
	}
	// The form always holds every field: unticking every event is a
	// choice to refuse, not "leave the events alone".
	ch := webhooks.SubscriptionChange{URL: &f.URL, Description: &f.Description, Events: append([]string{}, f.Events...),
		DenySamplePercent: &sample}
	sub, secret, err := h.Service.UpdateSubscription(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"), ch)
	var fe webhooks.FieldErrors
	switch {
	case errors.Is(err, store.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound)
	case errors.As(err, &fe):
		d, perr := h.subPage(c, c.Param("id"))
		if perr != nil {
			return perr
		}
		f.Errors = views.FieldErrors(fe)
		d.Form = f
		return render(c, http.StatusUnprocessableEntity, views.WebhookDeliveries(h.Pages.Page(c, "Webhook deliveries"), d))
	case err != nil:
		return err
	}
	if secret == "" {
		return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+sub.ID+"?done=updated")
	}
	d, err := h.subPage(c, sub.ID)
	if err != nil {
		return err
	}
	d.NewSecret = secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.WebhookDeliveries(h.Pages.Page(c, "Webhook deliveries"), d))
}

// setEnabled pauses (false) or resumes (true) a subscription.
func (h *Webhooks) setEnabled(enabled bool) echo.HandlerFunc {
	done := map[bool]string{false: "paused", true: "resumed"}[enabled]
	return func(c echo.Context) error {
		sub, err := h.Service.SetSubscriptionEnabled(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("id"), enabled)
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+sub.ID+"?done="+done)
	}
}

func (h *Webhooks) redeliver(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := h.Store.WebhookDelivery(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	if err := h.Service.Redeliver(ctx, actorOf(viewerFrom(c)), d.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+d.SubscriptionID+"?done=redelivered")
}

func (h *Webhooks) createInbound(c echo.Context) error {
	name := c.FormValue("name")
	hook, secret, err := h.Service.CreateInboundHook(c.Request().Context(), actorOf(viewerFrom(c)), name)
	w, perr := h.props(c)
	if perr != nil {
		return perr
	}
	var fe webhooks.FieldErrors
	if errors.As(err, &fe) {
		w.InboundName, w.InboundError = name, views.FieldErrors(fe)
		return render(c, http.StatusUnprocessableEntity, views.Webhooks(h.Pages.Page(c, "Webhooks"), w))
	}
	if err != nil {
		return err
	}
	w.NewSecret, w.NewSecretFor = secret, "the inbound hook "+hook.Name
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.Webhooks(h.Pages.Page(c, "Webhooks"), w))
}

func (h *Webhooks) deleteInbound(c echo.Context) error {
	err := h.Service.DeleteInboundHook(c.Request().Context(), actorOf(viewerFrom(c)), c.Param("name"))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/webhooks?done=hook-gone")
}

// billingUpdate is the body of an inbound organization.update: fields left
// out are unchanged; valid_until "" clears the end of the partnership.
type billingUpdate struct {
	Type string `json:"type"`
	Data struct {
		Organization string  `json:"organization"` // slug
		Plan         *string `json:"plan"`         // plan slug; "" clears
		Status       *string `json:"status"`       // active or suspended
		ValidUntil   *string `json:"valid_until"`  // RFC 3339 or a date
	} `json:"data"`
}

// inbound applies a signed organization.update from a billing system. It
// is mounted outside the session and CSRF middleware: the Standard
// Webhooks signature with the hook's secret, the timestamp tolerance and
// the once-only webhook-id are the protection. The change goes through
// partners.Service like an admin's, so it is audited (actor
// "hook:<name>") and a suspension revokes the organization's refresh
// tokens in the same transaction; access tokens stop at introspection and
// the token endpoint at once, since both check the organization's standing.
func (h *Webhooks) inbound(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	ctx := c.Request().Context()
	hook, msgID, err := h.Service.VerifyInbound(ctx, c.Param("id"), c.Request().Header, body, webhooks.InboundTolerance)
	switch {
	case errors.Is(err, webhooks.ErrReplay):
		return c.JSON(http.StatusConflict, map[string]string{"error": "webhook-id already received"})
	case errors.Is(err, store.ErrNotFound), errors.Is(err, webhooks.ErrNoSignature), errors.Is(err, webhooks.ErrBadSignature),
		errors.Is(err, webhooks.ErrStale):
		// One answer for an unknown hook and a bad signature: no probing.
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "signature not valid"})
	case err != nil:
		return err
	}
	var u billingUpdate
	if err := json.Unmarshal(body, &u); err != nil || u.Type != "organization.update" || u.Data.Organization == "" {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": `expected {"type":"organization.update","data":{"organization":SLUG,...}}`})
	}
	var in partners.OrgInput
	in.PlanSlug = u.Data.Plan
	if u.Data.Status != nil {
		st := store.OrgStatus(*u.Data.Status)
		if st != store.OrgActive && st != store.OrgSuspended {
			return c.JSON(http.StatusBadRequest, map[string]string{"error": "status must be active or suspended"})
		}
		in.Status = &st
	}
	if u.Data.ValidUntil != nil {
		var t time.Time
		if v := strings.TrimSpace(*u.Data.ValidUntil); v != "" {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				if t, err = time.Parse("2006-01-02", v); err != nil {
					return c.JSON(http.StatusBadRequest, map[string]string{"error": "valid_until must be RFC 3339 or YYYY-MM-DD"})
				}
			}
		}
		in.ValidUntil = &t
	}
	org, err := h.Partners.UpdateOrg(ctx, store.Actor{Label: "hook:" + hook.Name}, u.Data.Organization, in)
	var fe partners.FieldErrors
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no such organization"})
	case errors.As(err, &fe):
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": "invalid input", "fields": fe})
	case err != nil:
		// Our failure, not the sender's: its retry with the same
		// webhook-id must be accepted.
		if ferr := h.Service.ForgetInbound(context.WithoutCancel(ctx), hook.ID, msgID); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	out := map[string]any{"organization": org.Slug, "status": org.Status, "plan_id": org.PlanID}
	if !org.ValidUntil.IsZero() {
		out["valid_until"] = org.ValidUntil.UTC().Format(time.RFC3339)
	}
	return c.JSON(http.StatusOK, out)
}

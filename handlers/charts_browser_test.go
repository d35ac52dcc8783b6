package handlers_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/store"
)

// TestBrowserChartsWithoutJavaScript: with scripts turned off in a real
// Chromium, the platform admin's home and the decisions page draw their
// charts (the bars have a size on screen).
func TestBrowserChartsWithoutJavaScript(t *testing.T) {
	ctx := e2e.Browser(t)
	h, _, _ := webhookPortal(t)
	org, _ := h.Store.OrganizationBySlug(t.Context(), "acme")
	now := time.Now()
	var ds []store.Decision
	for i := range 60 {
		at := now.Add(-time.Duration(i) * 23 * time.Minute)
		action := []string{"permit", "permit", "challenge", "deny"}[i%4]
		ds = append(ds, store.Decision{ID: store.NewDecisionID(at), At: at, Point: "launch", OrgID: org.ID, UserID: "u",
			Subject: "u@x", ClientID: []string{"wiki", "crm"}[i%2], Action: action, Reason: "rule " + action})
	}
	if _, err := h.Store.InsertDecisions(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.AddActivity(t.Context(), now, map[string]int{store.ActivityTokens: 12, store.ActivitySignIns: 4}); err != nil {
		t.Fatal(err)
	}
	e2e.Do(t, ctx, signInByEmail(h.URL, "root@acme.example")...)
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), whPassword),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if d := os.Getenv("PORTICO_CHART_SCREENSHOTS"); d != "" {
		dir = d
	}
	for _, page := range []struct{ path, bar, shot string }{
		{"/", "#chart-tokens svg rect", "platform-home.png"},
		{"/decisions", "#decisions-timeline svg rect", "decision-charts.png"},
	} {
		e2e.Do(t, ctx, chromedp.Navigate(h.URL+page.path), chromedp.WaitVisible(chromedp.CSS(page.bar)))
		w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("`+page.bar+`").getBoundingClientRect().width`))
		if err != nil {
			t.Fatal(err)
		}
		if w < 1 {
			t.Errorf("%s: the first bar is %.1f px wide", page.path, w)
		}
		e2e.Screenshot(t, ctx, filepath.Join(dir, page.shot))
	}
	// The webhooks page works without scripts too.
	e2e.Do(t, ctx, chromedp.Navigate(h.URL+"/admin/webhooks"), chromedp.WaitVisible(chromedp.CSS("#webhook-form")))
	e2e.Screenshot(t, ctx, filepath.Join(dir, "webhooks.png"))
}

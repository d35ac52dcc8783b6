package handlers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portico/e2e"
)

// TestBrowserBuildIBMPolicy is the "done when" in a real browser:
// a platform admin builds IBM's example from scratch in the editor,
// simulates a contractor at a new location (Challenge by rule 1), saves it
// and attaches it to an app.
func TestBrowserBuildIBMPolicy(t *testing.T) {
	ctx := e2e.Browser(t)
	w := newPolicyWorld(t)
	base := w.h.URL
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "root@portico.example"),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("header nav")),
		chromedp.Navigate(base+"/admin/policies"),
		chromedp.Click(chromedp.CSS("#new-policy")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Development portal access"),

		// Rule 1: the location is new → Challenge.
		chromedp.Click(chromedp.CSS("#add-rule")),
		chromedp.WaitVisible(chromedp.CSS("#rule-0")),
		chromedp.SetValue(chromedp.CSS(`select[name="r0.newtype"]`), "location"),
		chromedp.Click(chromedp.CSS(`button[value="add-cond:0"]`)),
		chromedp.WaitVisible(chromedp.CSS("#cond-0-1")),
		chromedp.Click(chromedp.CSS(`button[value="del-cond:0:0"]`)),
		chromedp.WaitNotPresent(chromedp.CSS("#cond-0-1")),
		chromedp.SendKeys(chromedp.CSS(`input[name="r0.name"]`), "New location needs MFA"),
		chromedp.SetValue(chromedp.CSS(`select[name="r0.action"]`), "challenge"),

		// Rule 2: contractors or developers → Permit.
		chromedp.Click(chromedp.CSS("#add-rule")),
		chromedp.WaitVisible(chromedp.CSS("#rule-1")),
		chromedp.SendKeys(chromedp.CSS(`input[name="r1.name"]`), "Developers and contractors"),
		chromedp.SendKeys(chromedp.CSS(`input[name="r1.c0.values"]`), "contractors, developers"),
		chromedp.SetValue(chromedp.CSS(`select[name="default"]`), "deny"),

		// Simulate a contractor from Brazil at a new location.
		chromedp.SendKeys(chromedp.CSS(`input[name="sim.groups"]`), "contractors"),
		chromedp.SendKeys(chromedp.CSS(`input[name="sim.ip"]`), "198.51.100.4"),
		chromedp.SendKeys(chromedp.CSS(`input[name="sim.country"]`), "BR"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="sim.locations"]`), "203.0.113.0/24"),
		chromedp.Click(chromedp.CSS("#simulate")),
		chromedp.WaitVisible(chromedp.CSS("#sim-action")),
	)
	if got := e2e.Text(t, ctx, "#sim-action"); got != "challenge" {
		t.Fatalf("simulated action %q", got)
	}
	if got := e2e.Text(t, ctx, ".rule.decided .sim-decided"); !strings.Contains(got, "decided") {
		t.Fatalf("deciding rule not highlighted: %q", got)
	}
	if got := e2e.Text(t, ctx, "#policy-summary"); !strings.Contains(got, "If the location is new → Challenge.") ||
		!strings.Contains(got, "Else if the user is in contractors or developers → Permit.") || !strings.Contains(got, "Otherwise → Deny.") {
		t.Fatalf("summary %q", got)
	}
	shot := filepath.Join(t.TempDir(), "policy-editor.png")
	if os.Getenv("PORTICO_UPDATE_SCREENSHOTS") == "1" {
		shot = filepath.Join("..", "docs", "policy-editor.png")
	}
	e2e.Screenshot(t, ctx, shot)

	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#save-policy")),
		chromedp.WaitVisible(chromedp.CSS("#attach-target")),
		chromedp.SetValue(chromedp.CSS("#attach-target"), "app:dev-portal"),
		chromedp.Click(chromedp.CSS("#attach")),
		chromedp.WaitVisible(chromedp.CSS("#used-by")),
	)
	if got := e2e.Text(t, ctx, "#used-by"); !strings.Contains(got, "dev-portal") {
		t.Fatalf("used by %q", got)
	}
	c, err := w.h.Store.LookupClient(context.Background(), "dev-portal")
	if err != nil || c.PolicyID == "" {
		t.Fatalf("app not attached: %v", err)
	}
	p, _, err := w.h.Store.CurrentPolicyVersion(context.Background(), c.PolicyID)
	if err != nil || p.Name != "Development portal access" || p.Kind != "user_access" {
		t.Fatalf("saved policy: %v %+v", err, p)
	}
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/store"
	"portico/store/storetest"
)

// layoutPage is a page the layout test visits, and the picture's name.
type layoutPage struct {
	path string
	shot string // "" takes no picture
}

// TestBrowserLayoutSmallScreensTitlesAndScreenshots visits the main pages
// as a platform admin and as a developer of the demo organization, at 1280
// and at 390 px: no page scrolls sideways at 390 px, every page's title is
// its own, the skip link leads to the content, the small-screen menu opens
// without JavaScript, and every Launch link names its app for screen
// readers. With PORTICO_UPDATE_SCREENSHOTS=1 it retakes the pictures in
// docs/screenshots.
func TestBrowserLayoutSmallScreensTitlesAndScreenshots(t *testing.T) {
	ctx := e2e.Browser(t)
	db := storetest.DSN(t)
	base, firstRun := startPortal(t, "--db", db, "--demo")
	m := printedPassword.FindStringSubmatch(firstRun)
	if m == nil {
		t.Fatalf("first run printed no password:\n%s", firstRun)
	}
	bg := context.Background()
	st, err := store.Open(bg, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	policies, err := st.Policies(bg)
	if err != nil || len(policies) == 0 {
		t.Fatalf("demo policies: %v", err)
	}
	acme, err := st.OrganizationBySlug(bg, "acme")
	if err != nil {
		t.Fatal(err)
	}
	apps, err := st.OrgClients(bg, acme.ID)
	if err != nil || len(apps) == 0 {
		t.Fatalf("demo apps: %v", err)
	}

	signIn := func(email, password string) {
		t.Helper()
		e2e.Do(t, ctx,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email),
			chromedp.Click(chromedp.CSS("#continue")),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#sign-in")),
			chromedp.WaitNotPresent(chromedp.CSS("#sign-in")),
		)
	}
	signOut := func() {
		t.Helper()
		e2e.Do(t, ctx, chromedp.Navigate(base+"/account"), chromedp.WaitVisible(chromedp.CSS("header form button")),
			chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.CSS("#continue")))
	}

	titles := map[string]string{} // title → path
	shotDir := filepath.Join(t.TempDir(), "screenshots")
	if os.Getenv("PORTICO_UPDATE_SCREENSHOTS") == "1" {
		shotDir = filepath.Join("..", "..", "docs", "screenshots")
	}
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	visit := func(pages []layoutPage) {
		t.Helper()
		for _, width := range []int64{1280, 390} {
			e2e.Do(t, ctx, chromedp.EmulateViewport(width, 844))
			for _, pg := range pages {
				e2e.Do(t, ctx, chromedp.Navigate(base+pg.path), chromedp.WaitReady(chromedp.CSS("main")))
				if loc := e2e.Location(t, ctx); !strings.HasPrefix(loc, base+strings.SplitN(pg.path, "?", 2)[0]) {
					t.Fatalf("%s ended at %s", pg.path, loc)
				}
				if width == 390 {
					over, err := chromedp.Run(ctx, chromedp.Evaluate[int](
						`document.documentElement.scrollWidth - window.innerWidth`))
					if err != nil {
						t.Fatal(err)
					}
					if over > 0 {
						wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
							const w = window.innerWidth;
							const out = [];
							for (const el of document.querySelectorAll("body *")) {
								const r = el.getBoundingClientRect();
								if (r.right > w + 1 && out.length < 5) out.push(el.tagName + (el.id ? "#" + el.id : "") + "." + el.className + " " + Math.round(r.right));
							}
							return out.join(", ");
						})()`))
						t.Errorf("%s scrolls sideways at 390 px by %d px: %s", pg.path, over, wide)
					}
				} else {
					title, err := chromedp.Run(ctx, chromedp.Title())
					if err != nil {
						t.Fatal(err)
					}
					if prev, dup := titles[title]; dup && prev != pg.path {
						t.Errorf("%s and %s share the title %q", prev, pg.path, title)
					}
					titles[title] = pg.path
				}
				if pg.shot != "" {
					e2e.Screenshot(t, ctx, filepath.Join(shotDir, pg.shot+"-"+map[int64]string{1280: "1280", 390: "390"}[width]+".png"))
				}
			}
		}
		e2e.Do(t, ctx, chromedp.EmulateViewport(1280, 800))
	}

	// The platform administrator, after replacing the printed password.
	signIn(firstAdmin, m[1])
	e2e.Do(t, ctx,
		chromedp.WaitVisible(chromedp.CSS("#current")),
		chromedp.SendKeys(chromedp.CSS("#current"), m[1]),
		chromedp.SendKeys(chromedp.CSS("#password"), "layout test passphrase"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "layout test passphrase"),
		chromedp.Click(chromedp.CSS("#save-password")),
		chromedp.WaitVisible(chromedp.CSS("#account-notice")),
	)
	visit([]layoutPage{
		{"/", "dashboard"},
		{"/account", "account"},
		{"/account/password", ""},
		{"/account/mfa", ""},
		{"/account/passkeys", ""},
		{"/admin/orgs", "organizations"},
		{"/admin/orgs/acme", "organization"},
		{"/admin/plans", ""},
		{"/admin/policies", "policies"},
		{"/admin/policies/" + policies[0].ID, "policy-editor"},
		{"/decisions", "decisions"},
		{"/audit", "audit"},
		{"/org/members", "members"},
		{"/connections", ""},
		{"/apis", ""},
	})
	signOut()

	// A developer of the demo organization: the dashboard's Launch links and
	// the app pages.
	signIn("dev@acme.example", demoPassword)
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('a[id^="launch-"]')].map(a => a.getAttribute("aria-label") || "")`))
	if err != nil || len(labels) == 0 {
		t.Fatalf("no Launch links on the dashboard: %v", err)
	}
	for _, l := range labels {
		if !strings.HasPrefix(l, "Launch ") || len(l) <= len("Launch ") {
			t.Errorf("a Launch link is labelled %q: it must name its app", l)
		}
	}
	visit([]layoutPage{
		{"/apps", "apps"},
		{"/apps/new?type=web", "app-new"},
		{"/apps/" + apps[0].ClientID, "app"},
	})

	// The skip link is the first thing a keyboard reaches, and leads to
	// the content.
	e2e.Do(t, ctx, chromedp.Navigate(base+"/apps"), chromedp.WaitReady(chromedp.CSS("main")))
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(() => { const a = document.querySelector('a[href], button, input, select, textarea, summary'); return a.className + " " + a.getAttribute("href") })()`))
	if err != nil || first != "skip-link #main" {
		t.Fatalf("the first focusable element is %q (%v)", first, err)
	}

	// The small-screen menu is a button that opens without JavaScript.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	e2e.Do(t, ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/apps"),
		chromedp.WaitVisible(chromedp.CSS("#nav-menu-button")),
	)
	hidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(".nav-wide").offsetParent === null`))
	if !hidden {
		t.Error("the wide navigation shows at 390 px")
	}
	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#nav-menu-button")),
		chromedp.WaitVisible(chromedp.CSS(`#nav-menu nav a[href="/account"]`)),
	)
	if os.Getenv("PORTICO_UPDATE_SCREENSHOTS") == "1" {
		e2e.Screenshot(t, ctx, filepath.Join(shotDir, "menu-390.png"))
	}
}

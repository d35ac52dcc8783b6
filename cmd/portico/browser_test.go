package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portico/e2e"
)

// startPortal wires the portal exactly as `portico serve` does, on a fresh
// database, behind an httptest server on 127.0.0.1. It returns the base URL
// and what the first run printed.
func startPortal(t *testing.T, args ...string) (baseURL, firstRun string) {
	t.Helper()
	return startPortalAt(t, time.Now, args...)
}

// startPortalAt is startPortal with the portal's clock given.
func startPortalAt(t *testing.T, now func() time.Time, args ...string) (baseURL, firstRun string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: now}
	cfg, err := c.parseConfig(append(dbArgs(t, args), append([]string{"--issuer", base}, args...)...))
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(context.Background(), c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.handler
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.close() })
	return base, out.String()
}

// screenshotPath is where a browser test saves a picture: docs/ when
// PORTICO_UPDATE_SCREENSHOTS=1 (`task screenshots`), else a temporary dir.
func screenshotPath(t *testing.T, name string) string {
	if os.Getenv("PORTICO_UPDATE_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "docs", name)
	}
	return filepath.Join(t.TempDir(), name)
}

var printedPassword = regexp.MustCompile(`password: (\S+)`)

// TestBrowserFirstRunAdminSignsInAndOut is the newcomer's first minute: the
// credentials printed on first run work in a real browser.
func TestBrowserFirstRunAdminSignsInAndOut(t *testing.T) {
	ctx := e2e.Browser(t)
	base, firstRun := startPortal(t)
	m := printedPassword.FindStringSubmatch(firstRun)
	if m == nil {
		t.Fatalf("first run printed no password:\n%s", firstRun)
	}

	// Identifier first: the email decides where the person signs in; pool
	// accounts then get the password form.
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), firstAdmin),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	)
	if msg := e2e.Text(t, ctx, "#login-error"); !strings.Contains(msg, "incorrect") {
		t.Fatalf("wrong password shows %q", msg)
	}

	e2e.Do(t, ctx,
		// The email is kept after a failed attempt; only the password is typed again.
		chromedp.SendKeys(chromedp.CSS("#password"), m[1]),
		chromedp.Click(chromedp.CSS("#sign-in")),
		// A password printed on a console is replaced before anything else.
		chromedp.WaitVisible(chromedp.CSS("#password-required")),
	)
	e2e.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#password-required")))
	e2e.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#current"), m[1]),
		chromedp.SendKeys(chromedp.CSS("#password"), "my own admin passphrase"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "my own admin passphrase"),
		chromedp.Click(chromedp.CSS("#save-password")),
		chromedp.WaitVisible(chromedp.CSS("#account-notice")),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)
	if got := e2e.Text(t, ctx, "#welcome"); !strings.Contains(got, "Platform admin") {
		t.Fatalf("dashboard heading %q", got)
	}
	e2e.Screenshot(t, ctx, screenshotPath(t, "first-run.png"))

	e2e.Do(t, ctx,
		chromedp.Click(chromedp.CSS("header form button")),
		chromedp.WaitVisible(chromedp.CSS("#continue")), // back at the first sign-in step
	)
	if loc := e2e.Location(t, ctx); !strings.HasSuffix(loc, "/login") {
		t.Fatalf("after sign-out the browser is at %s", loc)
	}
}

// Package e2e drives a real headless Chromium (through chromedp) against
// Portico servers started on 127.0.0.1, for the pages people click. chromedp
// was chosen because it speaks the DevTools protocol directly from Go, so the
// tests need Debian's chromium package and nothing else: no WebDriver, no
// Node.
//
// Browser tests skip with a clear message when Chromium is missing on a
// developer's machine, and fail instead when CI=true, where it must be there.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPaths are tried in order; PORTICO_CHROMIUM overrides them.
var chromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}

func findChromium() string {
	if p := os.Getenv("PORTICO_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range chromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// Browser starts a headless Chromium for t and returns a context for
// chromedp actions on its first tab. Everything is torn down with t.
func Browser(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	path := findChromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is required under CI=true: apt-get install -y chromium")
		}
		t.Skip("browser test skipped: Chromium not found (apt-get install -y chromium, or set PORTICO_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-features", "HttpsUpgrades,HttpsFirstBalancedModeAutoEnable"),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first call starts the browser; it must not carry a timeout, or the
	// timeout would end the browser too.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return ctx
}

// stepTimeout bounds each helper call, so a page that never shows an
// element fails the test instead of hanging it.
const stepTimeout = 20 * time.Second

// Do runs chromedp steps in order and fails t on the first error. Each step
// is run on its own so that one that fails on a node the page replaced
// under its query (a re-render between query and action) is asked again:
// only that step, so a click or key press before it is never repeated. A
// stale-node error means the step's action did not reach the page.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	for i, step := range steps {
		for {
			err := chromedp.Do(ctx, step)
			if err == nil {
				break
			}
			if staleNode(err) && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
}

// Text returns the visible text of the first node matching the CSS selector.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
		if err == nil {
			return s
		}
		// A page that re-renders between the query and the read leaves
		// chromedp holding a node id the page no longer has; ask again.
		if staleNode(err) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		t.Fatalf("text of %s: %v", sel, err)
	}
}

// staleNode reports the DevTools errors of a node that went away under a
// query, which a repeated query answers.
func staleNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "No node with given id") || strings.Contains(msg, "Could not find node")
}

// Location returns the current page's URL.
func Location(t testing.TB, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Screenshot saves a PNG of the whole page to path.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG; less is JPEG
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// FromAddress makes every later request of the tab carry X-Forwarded-For: ip,
// so a portal that trusts the test's loopback proxy sees the browser coming
// from ip. It is how browser tests move a person between networks.
func FromAddress(t testing.TB, ctx context.Context, ip string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"X-Forwarded-For": ip}}); err != nil {
		t.Fatal(err)
	}
}

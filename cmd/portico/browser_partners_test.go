package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/store"
	"portico/store/storetest"
)

// TestBrowserPartnerOnboardingAndServiceCredentials is a partner's first
// day in a real browser: the platform sets up a plan and an organization
// from the command line and invites a developer; the developer accepts the
// invitation (choosing a password), signs in, registers a service app,
// copies the secret shown once, gets a token with it, rotates the secret
// with a one-hour grace period, and both secrets get tokens.
func TestBrowserPartnerOnboardingAndServiceCredentials(t *testing.T) {
	ctx := e2e.Browser(t)
	db := storetest.DSN(t)
	base, _ := startPortal(t, "--db", db)

	// The platform's side, through the same commands an operator scripts.
	tc := newTestCLI(t)
	tc.env["PORTICO_DB"], tc.env["PORTICO_ISSUER"] = db, base
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateScope(context.Background(), &store.Scope{Name: "payments:read", Description: "Read payments"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	tc.mustRun("plan", "create", "--slug", "gold", "--name", "Gold", "--feature", "payments scopes=payments:read app_types=service,web")
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme", "--domain", "acme.example", "--plan", "gold")
	out := strings.TrimSpace(tc.mustRun("member", "invite", "--org", "acme", "--email", "dev@acme.example", "--role", "developer"))
	link := out[strings.LastIndex(out, "\n")+1:]
	if !strings.HasPrefix(link, base+"/invite/") {
		t.Fatalf("invite printed:\n%s", out)
	}

	const password = "a long and private passphrase"
	e2e.Do(t, ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#accept-name")),
		chromedp.SendKeys(chromedp.CSS("#accept-name"), "Dana Developer"),
		chromedp.SendKeys(chromedp.CSS("#accept-password"), password),
		chromedp.Click(chromedp.CSS("#accept")),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "dev@acme.example"),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
	)

	// Register a service app through the wizard.
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/apps"),
		chromedp.Click(chromedp.CSS("#new-app")),
		chromedp.WaitVisible(chromedp.CSS("#type-service")),
		chromedp.Click(chromedp.CSS("#type-service")),
		chromedp.WaitVisible(chromedp.CSS("#app-name")),
		chromedp.SendKeys(chromedp.CSS("#app-name"), "Inventory sync"),
		chromedp.Click(chromedp.CSS(`input[value="payments:read"]`)),
		chromedp.Click(chromedp.CSS("#register-app")),
		chromedp.WaitVisible(chromedp.CSS("#client-secret")),
		chromedp.Click(chromedp.CSS("#copy-secret")),
	)
	if got := e2e.Text(t, ctx, "#copy-secret"); got != "Copied" {
		t.Errorf("the copy button says %q after a click", got)
	}
	if warn := e2e.Text(t, ctx, "#new-secret .alert"); !strings.Contains(warn, "never show it again") {
		t.Errorf("no warning beside the secret: %q", warn)
	}
	clientID := e2e.Text(t, ctx, "#client-id")
	first := e2e.Text(t, ctx, "#client-secret")
	if status, body := clientCredentials(t, base, clientID, first); status != http.StatusOK {
		t.Fatalf("token with the new secret: %d %s", status, body)
	}

	// Back on the app's page the secret is gone for good. Rotate with a
	// one-hour grace period: the answer shows the new secret once and
	// lists both.
	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/apps/"+clientID),
		chromedp.WaitVisible(chromedp.CSS("#rotate")),
	)
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("client-secret") !== null`)); err != nil || shown {
		t.Errorf("the app page shows a secret again (%v)", err)
	}
	e2e.Do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#grace"), "1h"),
		chromedp.Click(chromedp.CSS("#rotate")),
		chromedp.WaitVisible(chromedp.CSS("#client-secret")),
	)
	second := e2e.Text(t, ctx, "#client-secret")
	if second == first {
		t.Fatal("rotation showed the old secret")
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#secrets tbody tr").length`))
	if err != nil || rows != 2 {
		t.Errorf("the app page lists %d secrets during the grace period (%v)", rows, err)
	}
	for name, secret := range map[string]string{"old": first, "new": second} {
		if status, body := clientCredentials(t, base, clientID, secret); status != http.StatusOK {
			t.Errorf("%s secret during the grace period: %d %s", name, status, body)
		}
	}
}

// clientCredentials asks the portal's token endpoint for a token as a
// service would.
func clientCredentials(t *testing.T, base, clientID, secret string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"payments:read"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

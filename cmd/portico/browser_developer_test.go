package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2/clientcredentials"

	"portico/e2e"
	"portico/federation/pool"
	"portico/store"
	"portico/store/storetest"
)

// TestBrowserDeveloperFromNewAppToToken: a developer registers a service
// app in the browser, copies the secret shown once (a reload shows it no
// more and registers nothing), and gets a token with the quick start's own
// values: the curl snippet is run as shown, and the Go snippet's values
// through golang.org/x/oauth2; the token is live at the introspection
// endpoint.
func TestBrowserDeveloperFromNewAppToToken(t *testing.T) {
	ctx := e2e.Browser(t)
	db := storetest.DSN(t)
	base, _ := startPortal(t, "--db", db)

	bg := context.Background()
	st, err := store.Open(bg, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org := store.Organization{Slug: "acme", Name: "Acme", Domains: []string{"acme.example"}}
	if err := st.CreateOrganization(bg, &org); err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery staple"
	hash, _ := pool.HashPassword(password)
	dev := store.User{OrgID: org.ID, Email: "dev@acme.example", Name: "Dev", Role: store.RoleDeveloper, PasswordHash: hash}
	if err := st.CreateUser(bg, &dev); err != nil {
		t.Fatal(err)
	}

	e2e.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), dev.Email),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
		chromedp.Navigate(base+"/apps/new"),
		chromedp.WaitVisible(chromedp.CSS("#type-service")),
		chromedp.Click(chromedp.CSS("#type-service")),
		chromedp.WaitVisible(chromedp.CSS("#app-name")),
		chromedp.SendKeys(chromedp.CSS("#app-name"), "Nightly export"),
		chromedp.Click(chromedp.CSS("#register-app")),
		chromedp.WaitVisible(chromedp.CSS("#client-secret")),
	)
	secret := e2e.Text(t, ctx, "#client-secret")
	clientID := e2e.Text(t, ctx, "#qs-client-id")
	tokenURL := e2e.Text(t, ctx, "#qs-token")
	curl, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#snippet-curl")))
	if err != nil {
		t.Fatal(err)
	}
	appPage := e2e.Location(t, ctx)

	// A reload shows the secret no more and registers nothing.
	e2e.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#reveal-gone")))
	if cs, err := st.Clients(bg, org.ID); err != nil || len(cs) != 1 {
		t.Fatalf("after a reload there are %d apps (%v), want 1", len(cs), err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#client-secret").length`)); n != 0 {
		t.Fatal("the reload shows the secret again")
	}
	if !strings.Contains(appPage, "/apps/"+clientID) {
		t.Fatalf("the quick start's client ID %q is not the app's (%s)", clientID, appPage)
	}

	// The quick start's values are the server's own.
	var disc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		Introspection string `json:"introspection_endpoint"`
	}
	resp, err := http.Get(e2e.Text(t, ctx, "#qs-discovery"))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc.TokenEndpoint != tokenURL || disc.Issuer != e2e.Text(t, ctx, "#qs-issuer") {
		t.Fatalf("quick start says token %q issuer %q; discovery says %q %q", tokenURL, e2e.Text(t, ctx, "#qs-issuer"),
			disc.TokenEndpoint, disc.Issuer)
	}

	// The curl snippet, run as shown, with the secret in CLIENT_SECRET.
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is required under CI=true")
		}
		t.Log("curl not found: only the Go snippet's values are run")
	} else {
		cmd := exec.Command("sh", "-e", "-c", curl)
		cmd.Env = append(os.Environ(), "CLIENT_SECRET="+secret)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the curl snippet failed: %v\n%s\n%s", err, curl, out)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal(out, &tok); err != nil || tok.AccessToken == "" {
			t.Fatalf("the curl snippet's answer has no token: %s", out)
		}
		assertActive(t, disc.Introspection, clientID, secret, tok.AccessToken)
	}

	// The Go snippet's values, through the library it uses.
	cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: tokenURL}
	tok, err := cfg.Token(bg)
	if err != nil {
		t.Fatalf("the Go snippet's values get no token: %v", err)
	}
	assertActive(t, disc.Introspection, clientID, secret, tok.AccessToken)
}

// assertActive introspects token as the client and fails unless it is
// active.
func assertActive(t *testing.T, endpoint, clientID, secret, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	if !got.Active || got.ClientID != clientID {
		t.Fatalf("introspection: active %v client %q", got.Active, got.ClientID)
	}
}

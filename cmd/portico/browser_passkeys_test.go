package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"portico/e2e"
	"portico/federation/pool"
	"portico/policyeditor"
	"portico/store"
)

// startPortalLocalhost is startPortalAt with the issuer on "localhost":
// WebAuthn needs a domain as relying-party id (an IP address is refused by
// browsers), and http://localhost is a secure context.
func startPortalLocalhost(t *testing.T, db string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://localhost:" + port
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig([]string{"--db", db, "--issuer", base})
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
	return base
}

// phishingResistantPolicyJSON challenges any launch not preceded by a
// passkey within 15 minutes: the step-up can only be met by a passkey.
const phishingResistantPolicyJSON = `{"name":"Passkey for the wiki","kind":"user_access","default":"permit","rules":[
 {"name":"phishing-resistant","conditions":[{"type":"auth_method","any_of":["hwk","swk"],"within":"15m","negate":true}],"action":"challenge"}]}`

// TestBrowserPasskeys registers a passkey from the account page with
// Chromium's virtual authenticator, meets a launch step-up that only a
// passkey satisfies, signs in with the passkey alone (no email typed), and
// removes it.
func TestBrowserPasskeys(t *testing.T) {
	ctx := e2e.Browser(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><h1 id="app">Wiki</h1><p id="hint">%s</p>`, html.EscapeString(r.URL.Query().Get("login_hint")))
	}))
	t.Cleanup(app.Close)
	db := filepath.Join(t.TempDir(), "portico.db")
	base := startPortalLocalhost(t, db)

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
	dana := store.User{OrgID: org.ID, Email: "dana@acme.example", Name: "Dana", Role: store.RoleDeveloper, PasswordHash: hash}
	if err := st.CreateUser(bg, &dana); err != nil {
		t.Fatal(err)
	}
	wiki := store.Client{OrgID: org.ID, ClientID: "wiki", Name: "Team wiki", Type: store.ClientWeb,
		RedirectURIs: []string{app.URL + "/callback"}, LaunchURL: app.URL + "/launch", Enabled: true,
		TokenEndpointAuthMethod: "client_secret_basic", IDTokenSignedAlg: "RS256"}
	if err := st.CreateClient(bg, &wiki); err != nil {
		t.Fatal(err)
	}
	svc := &policyeditor.Service{Store: st}
	saved, err := svc.Import(bg, store.Actor{Label: "test"}, []byte(phishingResistantPolicyJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(bg, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: "wiki"}); err != nil {
		t.Fatal(err)
	}

	auth := e2e.VirtualAuthenticator(t, ctx)
	// do runs steps and, when one fails, shows where the browser was.
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%v\nat %s:\n%s", err, loc, text)
		}
	}

	// 1. Password sign-in, then a passkey from the account page (the
	// sign-in is seconds old, so no password is asked again).
	do(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), dana.Email),
		chromedp.Click(chromedp.CSS("#continue")),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
		chromedp.Navigate(base+"/account/passkeys"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-register-start")),
		chromedp.WaitReady(chromedp.CSS(`html[data-passkeys="ready"]`)),
		chromedp.SendKeys(chromedp.CSS("#passkey-register-name"), "Test laptop"),
		chromedp.Click(chromedp.CSS("#passkey-register-start")),
		chromedp.WaitVisible(chromedp.CSS("#passkeys")),
	)
	if got := e2e.Text(t, ctx, "#passkeys .passkey-name"); got != "Test laptop" {
		t.Fatalf("passkey listed as %q", got)
	}
	if n := e2e.AuthenticatorCredentials(t, ctx, auth); n != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", n)
	}
	list, err := st.UserPasskeys(bg, dana.ID)
	if err != nil || len(list) != 1 || list[0].CredentialID == "" || len(list[0].PublicKey) == 0 {
		t.Fatalf("stored passkeys: %v %+v", err, list)
	}

	// 2. Launch: this session used only a password, so the policy
	// challenges; a passkey meets it and the app opens.
	do(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#launch-wiki")),
		chromedp.Click(chromedp.CSS("#launch-wiki")),
		chromedp.WaitVisible(chromedp.CSS("#passkey-stepup-start")),
		chromedp.WaitReady(chromedp.CSS(`html[data-passkeys="ready"]`)),
	)
	if !strings.Contains(e2e.Location(t, ctx), "/verify") {
		t.Fatalf("no step-up: at %s", e2e.Location(t, ctx))
	}
	do(
		chromedp.Click(chromedp.CSS("#passkey-stepup-start")),
		chromedp.WaitVisible(chromedp.CSS("#app")),
	)
	if got := e2e.Text(t, ctx, "#hint"); got != dana.Email {
		t.Fatalf("the app got login_hint %q", got)
	}

	// 3. Sign out; sign in with the passkey alone, without typing an email:
	// the sign-in page offers passkeys in the email field's autofill
	// (conditional mediation), which the virtual authenticator answers at
	// once, so the browser comes back signed in.
	first, err := st.UserSessions(bg, dana.ID, time.Now())
	if err != nil || len(first) != 1 {
		t.Fatalf("sessions: %v %d", err, len(first))
	}
	do(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#welcome")),
		chromedp.Click(chromedp.CSS("header form button")),
	)
	var auth2 store.SessionAuth
	for i := 0; ; i++ {
		ss, err := st.UserSessions(bg, dana.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) == 1 && ss[0].ID != first[0].ID {
			if auth2, err = st.SessionAuth(bg, ss[0].ID); err != nil {
				t.Fatal(err)
			}
			break
		}
		if i == 100 {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("no new session after signing out (at %s): %d sessions", loc, len(ss))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if auth2.Methods["hwk"].IsZero() || auth2.Methods["user"].IsZero() || !auth2.Methods["pwd"].IsZero() {
		t.Fatalf("the new session was not authenticated by the passkey alone: %+v", auth2)
	}
	do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#welcome")))
	// The passkey sign-in counts for the policy: launching now needs no step-up.
	do(
		chromedp.Click(chromedp.CSS("#launch-wiki")),
		chromedp.WaitVisible(chromedp.CSS("#app")),
	)
	list, _ = st.UserPasskeys(bg, dana.ID)
	if len(list) != 1 || list[0].LastUsedAt.IsZero() || list[0].SignCount == 0 {
		t.Fatalf("after use: %+v", list)
	}

	// 4. Remove it (the passkey sign-in is within the minute: no password asked).
	do(
		chromedp.Navigate(base+"/account/passkeys"),
		chromedp.WaitVisible(chromedp.CSS("#remove-"+list[0].ID)),
		chromedp.Click(chromedp.CSS("#remove-"+list[0].ID)),
		chromedp.WaitVisible(chromedp.CSS("#no-passkeys")),
	)
	if n, _ := st.CountPasskeys(bg, dana.ID); n != 0 {
		t.Fatalf("%d passkeys left after removal", n)
	}
	events, err := st.AuditEvents(bg, store.AuditFilter{OrgID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range events {
		if strings.HasPrefix(e.Action, "mfa.passkey_") {
			seen = append(seen, e.Action)
		}
	}
	if strings.Join(seen, ",") != "mfa.passkey_remove,mfa.passkey_enroll" && strings.Join(seen, ",") != "mfa.passkey_enroll,mfa.passkey_remove" {
		t.Fatalf("passkey audit events: %v", seen)
	}
}

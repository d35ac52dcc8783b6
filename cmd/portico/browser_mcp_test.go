package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
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
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"portico/e2e"
	"portico/examples/mcp-server/mcpserver"
	"portico/federation/pool"
	"portico/store"
)

// TestBrowserMCPClientReachesProtectedServer is the MCP authorization story
// end to end, with the MCP Go SDK on both sides: the example MCP server
// (examples/mcp-server) accepts only Portico tokens for its API identifier;
// the SDK's client, knowing nothing but the server's URL and its own Client
// ID Metadata Document URL, gets a 401, follows RFC 9728 (Portico serves the
// API's metadata) and RFC 8414 to Portico, sends a person through Portico's
// sign-in in headless Chromium with PKCE and resource, receives the code at
// its loopback redirect, and calls a tool with the token.
func TestBrowserMCPClientReachesProtectedServer(t *testing.T) {
	ctx := e2e.Browser(t)
	bg := context.Background()

	// The agent's loopback redirect: it hands the code to the SDK.
	type result struct{ code, state, iss string }
	got := make(chan result, 1)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		select {
		case got <- result{q.Get("code"), q.Get("state"), q.Get("iss")}:
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><h1 id="done">You can close this window.</h1>`)
	}))
	t.Cleanup(callback.Close)
	redirect := callback.URL + "/callback"

	// The agent's Client ID Metadata Document, over https.
	var docURL string
	docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		json.NewEncoder(w).Encode(map[string]any{"client_id": docURL, "client_name": "Example Agent",
			"redirect_uris": []string{redirect}, "grant_types": []string{"authorization_code"},
			"token_endpoint_auth_method": "none"})
	}))
	t.Cleanup(docs.Close)
	docURL = docs.URL + "/agent/client.json"
	roots := x509.NewCertPool()
	roots.AddCert(docs.Certificate())

	// Portico, allowed to fetch documents from 127.0.0.1 and trusting the
	// document server's certificate.
	db := filepath.Join(t.TempDir(), "portico.db")
	base := startPortalWith(t, func(cfg *Config) { cfg.clientMetadataRoots = roots },
		"--db", db, "--upstream-allow", "127.0.0.1/32")

	// The MCP server's address first: its URL is the API identifier.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resource := "http://" + l.Addr().String() + "/mcp"

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
	user := store.User{OrgID: org.ID, Email: "dana@acme.example", Name: "Dana", Role: store.RoleDeveloper, PasswordHash: hash}
	if err := st.CreateUser(bg, &user); err != nil {
		t.Fatal(err)
	}
	api := store.API{Identifier: resource, Name: "Example MCP server", PublishMetadata: true,
		Scopes: []store.APIScope{{Name: "mcp:tools", Description: "Call the tools"}}}
	if err := st.CreateAPI(bg, &api); err != nil {
		t.Fatal(err)
	}

	h, err := mcpserver.Handler(mcpserver.Config{Issuer: base, Resource: resource, Scope: "mcp:tools",
		ResourceMetadataURL: base + "/.well-known/oauth-protected-resource/apis/" + api.ID})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	mcpSrv := &httptest.Server{Listener: l, Config: &http.Server{Handler: mux}}
	mcpSrv.Start()
	t.Cleanup(mcpSrv.Close)

	// Without a token the server says where to go (RFC 9728 §5.1).
	resp, err := http.Post(resource, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "resource_metadata=") {
		t.Fatalf("unauthenticated: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	var signInPage, consentPage string
	fetcher := func(fctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		e2e.Do(t, ctx,
			chromedp.Navigate(args.URL),
			chromedp.WaitVisible(chromedp.CSS("#email")),
		)
		signInPage = e2e.Text(t, ctx, "body")
		e2e.Do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#email"), user.Email),
			chromedp.Click(chromedp.CSS("#continue")),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#sign-in")),
			// An agent known only by its metadata document is third-party:
			// the person allows it, warned that nobody verified it.
			chromedp.WaitVisible(chromedp.CSS("#consent-unverified")),
		)
		consentPage = e2e.Text(t, ctx, "#consent")
		e2e.Do(t, ctx,
			chromedp.Click(chromedp.CSS("#consent-allow")),
			chromedp.WaitVisible(chromedp.CSS("#done")),
		)
		select {
		case r := <-got:
			return &auth.AuthorizationResult{Code: r.code, State: r.state, Iss: r.iss}, nil
		case <-time.After(20 * time.Second):
			return nil, fmt.Errorf("no redirect reached the loopback callback; browser at %s", e2e.Location(t, ctx))
		case <-fctx.Done():
			return nil, fctx.Err()
		}
	}
	oauth, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: docURL},
		RedirectURL:                    redirect,
		AuthorizationCodeFetcher:       fetcher,
	})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(bg, 90*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "example-agent", Version: "1.0.0"}, nil)
	session, err := client.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: resource, OAuthHandler: oauth,
		DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer session.Close()
	res, err := session.CallTool(cctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("call whoami: %v %+v", err, res)
	}
	var who mcpserver.WhoAmI
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &who); err != nil || who.Subject != user.ID || who.ClientID != docURL || who.Org != "acme" {
		t.Fatalf("whoami: %s %v", b, err)
	}
	if !strings.Contains(signInPage, "Example Agent") || !strings.Contains(strings.ToLower(signInPage), "not verified") {
		t.Errorf("the sign-in page does not show the agent as unverified:\n%s", signInPage)
	}
	if !strings.Contains(consentPage, "Example Agent") || !strings.Contains(consentPage, "not verified by the platform") ||
		!strings.Contains(consentPage, "Call the tools") {
		t.Errorf("the consent page does not name the agent, warn it is unverified and list the API's scope:\n%s", consentPage)
	}
}

// startPortalWith is startPortalAt with a hook on the parsed configuration,
// for what has no flag (test-only roots).
func startPortalWith(t *testing.T, edit func(*Config), args ...string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	var out bytes.Buffer
	c := &cli{stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }, now: time.Now}
	cfg, err := c.parseConfig(append([]string{"--issuer", base}, args...))
	if err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	a, err := wire(context.Background(), c, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.handler
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.close() })
	return base
}

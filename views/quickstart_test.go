package views

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestQuickStartQuotesValuesForEachLanguage: a value with quotes, a
// backslash and markup stays one literal in the shell, Go and JSON-style
// (JavaScript, Python) strings, and is escaped in the page.
func TestQuickStartQuotesValuesForEachLanguage(t *testing.T) {
	nasty := `it's "x" \ <script>`
	q := NewQuickStart("https://portal.example/", nasty, "service", nil, []string{"a:read", nasty}, false)
	if q.Token != "https://portal.example/token" || q.Discovery != "https://portal.example/.well-known/openid-configuration" {
		t.Fatalf("endpoints: %q %q", q.Token, q.Discovery)
	}
	curl := q.Snippets[0].Code
	if _, err := exec.LookPath("sh"); err == nil {
		// The shell reads the quoted client ID back as the value itself.
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(nasty)).Output()
		if err != nil || string(out) != nasty {
			t.Fatalf("shell quoting gives %q (%v)", out, err)
		}
	}
	if !strings.Contains(curl, shellQuote(nasty)+`:"$CLIENT_SECRET"`) {
		t.Errorf("curl:\n%s", curl)
	}
	if !strings.Contains(q.Snippets[1].Code, "ClientID:     "+strconv.Quote(nasty)) {
		t.Errorf("Go:\n%s", q.Snippets[1].Code)
	}
	web := NewQuickStart("http://127.0.0.1:8080", "spa-1", "spa", []string{"http://127.0.0.1:3000/cb"}, nil, true)
	for _, s := range web.Snippets {
		if strings.Contains(s.Code, "CLIENT_SECRET") {
			t.Errorf("a public app's %s snippet uses a secret", s.ID)
		}
	}
	if !strings.Contains(web.Snippets[1].Code, "client.None()") || !strings.Contains(web.Snippets[1].Code, "allowInsecureRequests") {
		t.Errorf("Node snippet of a public app on http:\n%s", web.Snippets[1].Code)
	}
	if !strings.Contains(web.Snippets[2].Code, `@app.route("/cb")`) || !strings.Contains(web.Snippets[2].Code, `"token_endpoint_auth_method": "none"`) {
		t.Errorf("Python snippet:\n%s", web.Snippets[2].Code)
	}
	// The Go snippets are Go: they parse, for a service and a web app.
	for _, code := range []string{q.Snippets[1].Code, NewQuickStart("https://p.example", "w", "web", nil, nil, false).Snippets[0].Code} {
		if _, err := parser.ParseFile(token.NewFileSet(), "snippet.go", code, parser.AllErrors); err != nil {
			t.Errorf("a Go snippet does not parse: %v\n%s", err, code)
		}
	}
	var b bytes.Buffer
	if err := appQuickStart(q).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") {
		t.Fatal("a value's markup reaches the page")
	}
}

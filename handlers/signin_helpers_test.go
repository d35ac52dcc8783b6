package handlers_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"portico/federation"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
)

// signInPortal is a portal with the sign-in flow fully wired: a sealer and
// every built-in connection type.
type signInPortal struct {
	*handlerstest.Harness
	svc *federation.Service
}

func newSignInPortal(t *testing.T, opts ...handlerstest.Option) *signInPortal {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	reg := builtin.Registry()
	opts = append([]handlerstest.Option{func(c *handlers.Config) {
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: reg}
	}}, opts...)
	h := handlerstest.New(t, opts...)
	return &signInPortal{Harness: h, svc: &federation.Service{Store: h.Store, Sealer: sealer, Registry: reg, Now: time.Now}}
}

// connection creates a connection through the same service the pages use.
func (p *signInPortal) connection(t *testing.T, org store.Organization, typ, name, secret string, settings map[string]string) store.Connection {
	t.Helper()
	in := federation.Input{Type: typ, Name: &name, Settings: settings}
	if secret != "" {
		in.Secret = &secret
	}
	x, err := p.svc.Create(context.Background(), store.Actor{Label: "test"}, org.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// follow requests an absolute URL with the browser's cookies, without
// following redirects.
func follow(t *testing.T, c *handlerstest.Client, method, to string, form url.Values) *http.Response {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, to, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// absolute resolves a Location header against the portal.
func (p *signInPortal) absolute(loc string) string {
	if strings.HasPrefix(loc, "/") {
		return p.URL + loc
	}
	return loc
}

// federatedSignIn types the email, follows the portal to the upstream and
// the upstream back, and returns the callback's response.
var choiceRE = regexp.MustCompile(`data-connection="([^"]+)"`)

func (p *signInPortal) federatedSignIn(t *testing.T, c *handlerstest.Client, email string) *http.Response {
	t.Helper()
	r := c.Post("/login", url.Values{"email": {email}})
	if m := choiceRE.FindStringSubmatch(r.Body); r.StatusCode == http.StatusOK && m != nil && strings.Contains(r.Body, `id="use-password"`) {
		// The organization still has password accounts no connection has
		// linked, so the page offers the connection beside the password.
		r = c.Post("/login/start", url.Values{"email": {email}, "connection": {m[1]}})
	}
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login %s: status %d, want 303\n%s", email, r.StatusCode, r.Body)
	}
	up := follow(t, c, http.MethodGet, r.Header.Get("Location"), nil)
	up.Body.Close()
	if up.StatusCode != http.StatusFound {
		t.Fatalf("upstream answered %d", up.StatusCode)
	}
	return follow(t, c, http.MethodGet, p.absolute(up.Header.Get("Location")), nil)
}

// whoAmI returns the signed-in user's name and organization from the home page.
func whoAmI(t *testing.T, c *handlerstest.Client) string {
	t.Helper()
	r := c.Get("/")
	if r.StatusCode != http.StatusOK {
		return ""
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(doc.Find(".who span").First().Text())
}

func pageError(body string) string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		return ""
	}
	if s := strings.TrimSpace(doc.Find("#login-error").Text()); s != "" {
		return s
	}
	return strings.TrimSpace(doc.Find("#error-message").Text())
}

// Short names for the harness types in table-heavy tests.
type (
	handlersConfig = handlers.Config
	handlersClient = handlerstest.Client
)

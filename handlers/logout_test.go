package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portico/authserver"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
)

// logoutPortal is a portal with the authorization server wired as serve
// wires it for logout, one client with a registered post-logout URI, and a
// member who can sign in.
type logoutPortal struct {
	h      *handlerstest.Harness
	client store.Client
	secret string
	email  string
	user   store.User
}

// completer is cmd/portico's adapter in miniature: the sign-in flow
// finishes authorization requests on the real server.
type completer struct{ s *authserver.Server }

func (c completer) CompleteLogin(ctx context.Context, id string, in handlers.CompletedSignIn) (string, error) {
	return c.s.CompleteLogin(ctx, id, authserver.LoginUser{UserID: in.UserID, AuthTime: in.AuthTime, AMR: in.AMR})
}

const registeredBye = "https://app.example/bye"

func newLogoutPortal(t *testing.T, withOAuth bool) *logoutPortal {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	var srv *authserver.Server
	h := handlerstest.New(t, func(c *handlers.Config) {
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry()}
		if !withOAuth {
			return
		}
		srv, err = authserver.New(authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: sealer,
			AllowInsecure: true, CacheRevalidate: -1, Now: c.Now,
			LoginURL:  func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) },
			LogoutURL: handlers.LogoutConfirmURL})
		if err != nil {
			t.Fatal(err)
		}
		c.OAuth = srv
		c.SignIn.Completer = completer{srv}
	})
	org := h.Org(t, "acme", "acme.example")
	p := &logoutPortal{h: h, email: "mia@acme.example"}
	p.user = h.User(t, org, p.email, store.RoleMember, "correct horse battery staple")
	if srv != nil {
		p.client, p.secret, err = srv.Registrar().Register(context.Background(), org.ID, authserver.Actor{Label: "test"},
			authserver.RegisterInput{Name: "app", Type: store.ClientWeb, RedirectURIs: []string{"https://app.example/cb"},
				PostLogoutRedirectURIs: []string{registeredBye}})
		if err != nil {
			t.Fatal(err)
		}
		// First-party, so the code flow in these tests needs no consent step.
		if p.client, err = srv.Registrar().SetFirstParty(context.Background(), org.ID, p.client.ClientID,
			authserver.Actor{Label: "test"}, true); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// signedIn returns a browser with a portal session.
func (p *logoutPortal) signedIn(t *testing.T) *handlerstest.Client {
	t.Helper()
	b := p.h.Client(t)
	b.Login(p.email, "correct horse battery staple")
	if r := b.Get("/"); r.StatusCode != http.StatusOK {
		t.Fatalf("home after sign-in: %d", r.StatusCode)
	}
	return b
}

// sessions counts the member's live portal sessions.
func (p *logoutPortal) sessions(t *testing.T) int {
	t.Helper()
	list, err := p.h.Store.UserSessions(context.Background(), p.user.ID, p.h.Config.Now())
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TestRPInitiatedLogoutEndsPortalSession is the whole round trip: the app
// sends the browser to end_session, the portal asks, the POST ends the
// portal session and the browser lands on the app's registered URI with its
// state.
func TestRPInitiatedLogoutEndsPortalSession(t *testing.T) {
	p := newLogoutPortal(t, true)
	b := p.signedIn(t)

	q := url.Values{"client_id": {p.client.ClientID}, "post_logout_redirect_uri": {registeredBye}, "state": {"s-1"}}
	r := b.Get("/end_session?" + q.Encode())
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/logout/confirm?logout=") {
		t.Fatalf("end_session: %d %q", r.StatusCode, loc)
	}
	r = b.Get(loc)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("confirm page: %d", r.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.TrimSpace(doc.Find("#logout-confirm h1").Text()); h != "Sign out of Portico?" {
		t.Errorf("heading %q", h)
	}
	form := doc.Find(`#logout-confirm form[method="post"][action="/logout/confirm"]`)
	ticket, _ := form.Find(`input[name="logout"]`).Attr("value")
	csrf, _ := form.Find(`input[name="_csrf"]`).Attr("value")
	if ticket == "" || csrf == "" {
		t.Fatalf("form: ticket %q, csrf %q", ticket, csrf)
	}
	if d := doc.Find("#logout-destination").Text(); d != registeredBye+"?state=s-1" {
		t.Errorf("destination shown: %q", d)
	}
	if p.sessions(t) != 1 {
		t.Fatal("showing the question ended the session")
	}

	r = b.PostRaw("/logout/confirm", url.Values{"_csrf": {csrf}, "logout": {ticket}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != registeredBye+"?state=s-1" {
		t.Fatalf("confirm: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if n := p.sessions(t); n != 0 {
		t.Fatalf("%d portal session(s) left after RP-initiated logout", n)
	}
	if r := b.Get("/"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("home after logout: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestLogoutConfirmNeedsCSRF: a cross-site form without the token signs
// nobody out.
func TestLogoutConfirmNeedsCSRF(t *testing.T) {
	p := newLogoutPortal(t, true)
	b := p.signedIn(t)
	r := b.PostRaw("/logout/confirm", url.Values{"next": {registeredBye}})
	if r.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF token: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if p.sessions(t) != 1 {
		t.Fatal("a POST without CSRF token ended the session")
	}
}

// TestLogoutConfirmIsNoOpenRedirect: after signing out the browser goes to
// a local path or where an end_session ticket leads, and to the sign-in
// page for anything else — a registered post-logout URI of some client
// included (finding 5: any organization's URI was accepted as next).
func TestLogoutConfirmIsNoOpenRedirect(t *testing.T) {
	for _, tc := range []struct {
		name, next, want string
		withOAuth        bool
	}{
		{"none", "", "/login", true},
		{"local path", "/apps?tab=mine", "/apps?tab=mine", true},
		{"registered URI as next", registeredBye, "/login", true},
		{"registered with state as next", registeredBye + "?state=abc", "/login", true},
		{"registered, without an authorization server", registeredBye, "/login", false},
		{"other site", "https://evil.example/", "/login", true},
		{"scheme-relative", "//evil.example/", "/login", true},
		{"backslash", "/\\evil.example/", "/login", true},
		{"javascript", "javascript:alert(1)", "/login", true},
		{"header split", "/x\r\nSet-Cookie: a=b", "/login", true},
		{"userinfo", "https://app.example@evil.example/bye", "/login", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newLogoutPortal(t, tc.withOAuth)
			b := p.signedIn(t)
			r := b.Post("/logout/confirm", url.Values{"next": {tc.next}})
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != tc.want {
				t.Errorf("next %q: %d %q, want 303 %q", tc.next, r.StatusCode, r.Header.Get("Location"), tc.want)
			}
			if p.sessions(t) != 0 {
				t.Error("the session survived")
			}
			// Signed out already: the page does not ask, it goes on to the
			// same vetted destination.
			r = b.Get("/logout/confirm?next=" + url.QueryEscape(tc.next))
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != tc.want {
				t.Errorf("signed-out GET, next %q: %d %q, want 303 %q", tc.next, r.StatusCode, r.Header.Get("Location"), tc.want)
			}
			// Forged tickets lead nowhere either.
			for _, forged := range []string{tc.next, "eyJ1IjoiaHR0cHM6Ly9ldmlsLmV4YW1wbGUvIn0.AAAA"} {
				if r := b.Get(handlers.LogoutConfirmURL(forged)); forged != "" &&
					(r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login") {
					t.Errorf("forged ticket %q: %d %q", forged, r.StatusCode, r.Header.Get("Location"))
				}
			}
		})
	}
}

// TestLogoutWithoutHintNeedsAClick: end_session with a client_id but no
// id_token_hint (which anyone can send) never redirects a signed-out
// browser by itself; the page names the destination and waits for a click.
func TestLogoutWithoutHintNeedsAClick(t *testing.T) {
	p := newLogoutPortal(t, true)
	b := p.h.Client(t) // not signed in
	q := url.Values{"client_id": {p.client.ClientID}, "post_logout_redirect_uri": {registeredBye}, "state": {"s-2"}}
	r := b.Get("/end_session?" + q.Encode())
	if r.StatusCode != http.StatusFound {
		t.Fatalf("end_session: %d", r.StatusCode)
	}
	r = b.Get(r.Header.Get("Location"))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("signed-out logout page without hint: %d %q, want a page asking for a click", r.StatusCode, r.Header.Get("Location"))
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if href, _ := doc.Find("#logout-continue").Attr("href"); href != registeredBye+"?state=s-2" {
		t.Fatalf("continue link %q", href)
	}
}

// TestLogoutConfirmEscapesNext: next and the ticket are echoed into the
// form, as data.
func TestLogoutConfirmEscapesNext(t *testing.T) {
	p := newLogoutPortal(t, true)
	b := p.signedIn(t)
	evil := `/"><script>alert(1)</script>`
	r := b.Get("/logout/confirm?" + url.Values{"next": {evil}, "logout": {evil}}.Encode())
	if r.StatusCode != http.StatusOK || strings.Contains(r.Body, "<script>alert(1)") {
		t.Fatalf("%d, unescaped next in the page", r.StatusCode)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"next", "logout"} {
		if v, _ := doc.Find(`#logout-confirm input[name="` + name + `"]`).Attr("value"); v != evil {
			t.Fatalf("%s round-trips as %q", name, v)
		}
	}
}

// TestLogoutWithHintGoesStraightOn: with an id_token_hint the application
// proved who it is, so a signed-out browser goes straight to its
// registered post-logout URI. The ID token comes from a real code flow
// through the portal's sign-in.
func TestLogoutWithHintGoesStraightOn(t *testing.T) {
	p := newLogoutPortal(t, true)
	b := p.signedIn(t)
	q := url.Values{"response_type": {"code"}, "client_id": {p.client.ClientID}, "redirect_uri": {"https://app.example/cb"},
		"scope": {"openid"}, "state": {"st"}}
	r := b.Get("/authorize?" + q.Encode())
	for i := 0; i < 5 && !strings.HasPrefix(r.Header.Get("Location"), "https://app.example/cb"); i++ {
		if r.Header.Get("Location") == "" {
			t.Fatalf("authorize stopped at %d: %s", r.StatusCode, r.Body)
		}
		r = b.Get(r.Header.Get("Location"))
	}
	cb, err := url.Parse(r.Header.Get("Location"))
	if err != nil || cb.Query().Get("code") == "" {
		t.Fatalf("no code: %q", r.Header.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodPost, p.h.URL+"/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {cb.Query().Get("code")}, "redirect_uri": {"https://app.example/cb"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(p.client.ClientID, p.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		IDToken string `json:"id_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.IDToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}

	out := p.h.Client(t) // a signed-out browser
	r = out.Get("/end_session?" + url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {registeredBye},
		"state": {"s-3"}}.Encode())
	r = out.Get(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != registeredBye+"?state=s-3" {
		t.Fatalf("hinted logout, signed out: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
}

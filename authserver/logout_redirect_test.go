package authserver_test

import (
	"net/http"
	"net/url"
	"testing"

	"portico/authserver"
	"portico/store"
)

// TestPostLogoutRedirectAllowed: the portal's logout page may send the
// browser only to a URI some enabled client registered, exactly, or to such
// a URI with the state end_session added; everything else is refused.
func TestPostLogoutRedirectAllowed(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) {
		c.LogoutURL = func(next string) string { return "/logout/confirm?next=" + url.QueryEscape(next) }
	})
	c, _ := w.client(authserver.RegisterInput{Name: "web", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		PostLogoutRedirectURIs: []string{"https://app.example/bye", "https://app.example/out?tenant=7&lang=en"}})
	off, _ := w.client(authserver.RegisterInput{Name: "off", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		PostLogoutRedirectURIs: []string{"https://off.example/bye"}})
	if _, err := w.reg.SetEnabled(w.ctx, w.org.ID, off.ClientID, cli, false); err != nil {
		t.Fatal(err)
	}

	// What end_session really hands the portal, state included.
	nextFrom := func(uri, state string) string {
		t.Helper()
		cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		q := url.Values{"client_id": {c.ClientID}, "post_logout_redirect_uri": {uri}, "state": {state}}
		resp, err := cl.Get(w.issuer + "/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || loc.Path != "/logout/confirm" {
			t.Fatalf("end_session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return loc.Query().Get("next")
	}

	for _, tc := range []struct {
		name string
		uri  string
		want bool
	}{
		{"registered", "https://app.example/bye", true},
		{"registered with a query", "https://app.example/out?tenant=7&lang=en", true},
		{"from end_session with state", nextFrom("https://app.example/bye", "s 1&x=<y>"), true},
		{"with a query, from end_session with state", nextFrom("https://app.example/out?tenant=7&lang=en", "abc"), true},
		{"state and something else", "https://app.example/bye?state=abc&to=https%3A%2F%2Fevil.example", false},
		{"another parameter", "https://app.example/bye?to=evil", false},
		{"longer path", "https://app.example/bye/more", false},
		{"path prefix", "https://app.example/byebye", false},
		{"other host", "https://evil.example/bye", false},
		{"userinfo trick", "https://app.example@evil.example/bye", false},
		{"fragment", "https://app.example/bye#x", false},
		{"other scheme", "http://app.example/bye", false},
		{"query of another registered URI changed", "https://app.example/out?tenant=8&lang=en", false},
		{"disabled client's URI", "https://off.example/bye", false},
		{"relative", "/bye", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := w.srv.PostLogoutRedirectAllowed(w.ctx, tc.uri); got != tc.want {
				t.Errorf("PostLogoutRedirectAllowed(%q) = %v, want %v", tc.uri, got, tc.want)
			}
		})
	}
}

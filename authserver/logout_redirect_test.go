package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/authserver"
	"portico/store"
)

// TestLogoutTickets: end_session hands the portal a ticket, and the portal
// can redirect only where a ticket says: the URI registered by the client
// that the id_token_hint (hinted) or client_id (not hinted, so the portal
// asks for a click) names. Another client's URI, a forged, altered or
// expired ticket, or a client disabled since, give nothing.
func TestLogoutTickets(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) {
		c.LogoutURL = func(ticket string) string { return "/logout/confirm?logout=" + url.QueryEscape(ticket) }
	})
	c, secret := w.client(authserver.RegisterInput{Name: "web", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		PostLogoutRedirectURIs: []string{"https://app.example/bye", "https://app.example/out?tenant=7"}})
	other, _ := w.client(authserver.RegisterInput{Name: "other", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		PostLogoutRedirectURIs: []string{"https://evil.example/bye"}})
	code := w.codeFor(c.ClientID, "openid", "")
	_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, c.ClientID, secret)
	idToken := tok["id_token"].(string)

	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	endSession := func(q url.Values) (int, string) {
		t.Helper()
		resp, err := cl.Get(w.issuer + "/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			return resp.StatusCode, ""
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Path != "/logout/confirm" {
			t.Fatalf("end_session: %q", resp.Header.Get("Location"))
		}
		return resp.StatusCode, loc.Query().Get("logout")
	}

	_, byID := endSession(url.Values{"client_id": {c.ClientID}, "post_logout_redirect_uri": {"https://app.example/bye"}, "state": {"s 1"}})
	if uri, hinted, ok := w.srv.LogoutDestination(w.ctx, byID); !ok || hinted || uri != "https://app.example/bye?state=s+1" {
		t.Fatalf("client_id ticket: %q %v %v", uri, hinted, ok)
	}
	_, byHint := endSession(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://app.example/out?tenant=7"}})
	if uri, hinted, ok := w.srv.LogoutDestination(w.ctx, byHint); !ok || !hinted || uri != "https://app.example/out?tenant=7" {
		t.Fatalf("hinted ticket: %q %v %v", uri, hinted, ok)
	}
	// Another client's registered URI is refused for this client, hinted or not.
	if st, _ := endSession(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/bye"}}); st != 400 {
		t.Fatalf("another client's URI with a hint: %d", st)
	}
	if st, _ := endSession(url.Values{"client_id": {c.ClientID}, "post_logout_redirect_uri": {"https://evil.example/bye"}}); st != 400 {
		t.Fatalf("another client's URI with client_id: %d", st)
	}
	// An access token is no id_token_hint.
	if st, _ := endSession(url.Values{"id_token_hint": {tok["access_token"].(string)}, "post_logout_redirect_uri": {"https://app.example/bye"}}); st != 400 {
		t.Fatalf("access token as hint: %d", st)
	}
	// No URI at all: an empty ticket, which vouches for nothing.
	if _, none := endSession(url.Values{"client_id": {c.ClientID}}); none != "" {
		t.Fatalf("ticket without a URI: %q", none)
	}

	payload, mac, _ := strings.Cut(byID, ".")
	for name, ticket := range map[string]string{
		"empty":              "",
		"no MAC":             payload,
		"MAC altered":        payload + "." + strings.Repeat("A", len(mac)),
		"payload of another": strings.Replace(byID, payload, strings.Split(byHint, ".")[0], 1),
		"a raw URI":          "https://app.example/bye",
	} {
		if _, _, ok := w.srv.LogoutDestination(w.ctx, ticket); ok {
			t.Errorf("%s ticket accepted", name)
		}
	}
	if _, err := w.reg.SetEnabled(w.ctx, w.org.ID, c.ClientID, cli, false); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := w.srv.LogoutDestination(w.ctx, byHint); ok {
		t.Error("ticket of a disabled client accepted")
	}
	if _, err := w.reg.SetEnabled(w.ctx, w.org.ID, c.ClientID, cli, true); err != nil {
		t.Fatal(err)
	}
	w.advance(11 * 60e9)
	if _, _, ok := w.srv.LogoutDestination(w.ctx, byHint); ok {
		t.Error("expired ticket accepted")
	}
	_ = other
}

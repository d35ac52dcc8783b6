package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

// startAuthorize sends the browser to /authorize and returns the pending
// request's id from the redirect to the login page.
func startAuthorize(t *testing.T, w *world, clientID, scope string, extra url.Values) string {
	t.Helper()
	_, ch := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectBase},
		"scope": {scope}, "state": {"st"}, "code_challenge": {ch}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("auth_request")
	if id == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return id
}

// TestThirdPartyClientsNeedConsent: a client nobody marked first-party
// gets no code until the user allows it; the grant is remembered for the
// scopes allowed, a wider request asks again, prompt=consent always asks,
// prompt=none without a grant is consent_required, and Deny is
// access_denied with state and iss.
func TestThirdPartyClientsNeedConsent(t *testing.T) {
	w := newWorld(t)
	if err := w.st.CreateScope(w.ctx, &store.Scope{Name: "calendar:read", Description: "Read your calendar"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.st.UpdatePlan(w.ctx, w.org.PlanID, func(p *store.Plan) error {
		p.Features = append(p.Features, store.Feature{Name: "calendar", Scopes: []string{"calendar:read"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	app, _ := w.client(authserver.RegisterInput{Name: "Calendar sync", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		Scopes: []string{"calendar:read"}, GrantTypes: []string{"authorization_code", "refresh_token"}})
	if app.FirstParty {
		t.Fatal("a newly registered client is first-party")
	}
	u := authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock(), AMR: []string{"pwd"}}
	complete := func(id string) (*url.URL, error) {
		to, err := w.srv.CompleteLogin(w.ctx, id, u)
		if err != nil {
			return nil, err
		}
		return url.Parse(to)
	}

	// Deny.
	id := startAuthorize(t, w, app.ClientID, "openid profile", nil)
	if _, err := complete(id); !isErr(err, authserver.ErrConsentRequired) {
		t.Fatalf("first request: want ErrConsentRequired, got %v", err)
	}
	to, err := w.srv.DenyConsent(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := url.Parse(to)
	if d.Query().Get("error") != "access_denied" || d.Query().Get("state") != "st" || d.Query().Get("iss") != w.issuer {
		t.Fatalf("deny redirect: %s", to)
	}
	if _, err := complete(id); !isErr(err, authserver.ErrUnknownAuthRequest) {
		t.Fatalf("a denied request goes on: %v", err)
	}

	// The consent page states each scope in words, app scopes by their
	// registered description.
	id = startAuthorize(t, w, app.ClientID, "openid profile offline_access calendar:read", nil)
	p, err := w.srv.ConsentPrompt(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientName != "Calendar sync" || p.OrgName != "Acme" || len(p.Scopes) != 4 {
		t.Fatalf("consent prompt: %+v", p)
	}
	for _, s := range p.Scopes {
		if s.Description == "" || s.Description == s.Name {
			t.Errorf("scope %s has no words: %q", s.Name, s.Description)
		}
	}
	if p.Scopes[3].Description != "Read your calendar" {
		t.Errorf("app scope described as %q", p.Scopes[3].Description)
	}
	// Scopes come grouped as ScopeGroups groups them (sign-in, portal, each API).
	if p.Scopes[0].Group != "Sign-in (OpenID Connect)" || p.Scopes[2].Group != p.Scopes[0].Group || p.Scopes[3].Group != "Portal" {
		t.Errorf("scope groups %+v", p.Scopes)
	}
	if p.Unverified != nil {
		t.Errorf("a registered client marked unverified: %+v", p.Unverified)
	}
	if _, err := complete(id); !isErr(err, authserver.ErrConsentRequired) {
		t.Fatalf("want ErrConsentRequired, got %v", err)
	}
	if err := w.srv.GrantConsent(w.ctx, id, w.user.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := complete(id); err != nil || r.Query().Get("code") == "" {
		t.Fatalf("after Allow: %v %v", r, err)
	}

	// A subset of what was allowed goes straight through.
	if r, err := complete(startAuthorize(t, w, app.ClientID, "openid calendar:read", nil)); err != nil || r.Query().Get("code") == "" {
		t.Fatalf("subset of the grant: %v %v", r, err)
	}
	// More than was allowed asks again.
	if _, err := complete(startAuthorize(t, w, app.ClientID, "openid email", nil)); !isErr(err, authserver.ErrConsentRequired) {
		t.Fatalf("a scope beyond the grant: want ErrConsentRequired, got %v", err)
	}
	// prompt=consent asks even with a covering grant, and is met by an
	// Allow for this request.
	w.advance(time.Second)
	id = startAuthorize(t, w, app.ClientID, "openid", url.Values{"prompt": {"consent"}})
	if _, err := complete(id); !isErr(err, authserver.ErrConsentRequired) {
		t.Fatalf("prompt=consent: want ErrConsentRequired, got %v", err)
	}
	w.advance(time.Second)
	if err := w.srv.GrantConsent(w.ctx, id, w.user.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := complete(id); err != nil || r.Query().Get("code") == "" {
		t.Fatalf("prompt=consent after Allow: %v %v", r, err)
	}
	// prompt=none without a grant: consent_required, to the client.
	other, _ := w.client(authserver.RegisterInput{Name: "Other", Type: store.ClientWeb, RedirectURIs: []string{redirectBase}})
	id = startAuthorize(t, w, other.ClientID, "openid", url.Values{"prompt": {"none"}})
	r, err := complete(id)
	if err != nil || r.Query().Get("error") != "consent_required" || r.Query().Get("iss") != w.issuer || r.Query().Get("state") != "st" {
		t.Fatalf("prompt=none without consent: %v %v", r, err)
	}
	// prompt=none with a covering grant: a code.
	if r, err := complete(startAuthorize(t, w, app.ClientID, "openid profile", url.Values{"prompt": {"none"}})); err != nil || r.Query().Get("code") == "" {
		t.Fatalf("prompt=none with consent: %v %v", r, err)
	}
}

// TestFirstPartyClientsSkipConsent: a client a platform admin marked
// first-party gets a code without a consent page.
func TestFirstPartyClientsSkipConsent(t *testing.T) {
	w := newWorld(t)
	app, _ := w.web()
	if _, err := w.reg.SetFirstParty(w.ctx, w.org.ID, app.ClientID, cli, true); err != nil {
		t.Fatal(err)
	}
	id := startAuthorize(t, w, app.ClientID, "openid profile", url.Values{"prompt": {"none"}})
	to, err := w.srv.CompleteLogin(w.ctx, id, authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock()})
	if err != nil || !strings.Contains(to, "code=") {
		t.Fatalf("first-party: %q %v", to, err)
	}
	if _, err := w.st.Consent(w.ctx, w.user.ID, app.ClientID); err == nil {
		t.Error("a consent was recorded for a first-party client")
	}
}

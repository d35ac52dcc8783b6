package authserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/authserver"
)

// challengeGate asks for step-up MFA at authorize unless MFA is fresh.
type challengeGate struct{}

func (challengeGate) Check(_ context.Context, r authserver.GateRequest) (authserver.Verdict, error) {
	if r.Point == authserver.PointAuthorize && r.Context.MFAAt.IsZero() {
		return authserver.Verdict{Action: authserver.Challenge, Reason: "new location"}, nil
	}
	return authserver.Verdict{Action: authserver.Permit}, nil
}

func TestStepUpChallenge(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) {
		c.Gate = authserver.Chain{authserver.DefaultGate{}, challengeGate{}}
	})
	spa := w.spa()
	_, ch := pkce()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.issuer + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {spa.ClientID},
		"redirect_uri": {redirectBase}, "scope": {"openid"}, "code_challenge": {ch}, "code_challenge_method": {"S256"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("auth_request")
	u := authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock()}
	if _, err := w.srv.CompleteLogin(w.ctx, id, u); !isErr(err, authserver.ErrStepUpRequired) {
		t.Fatalf("want ErrStepUpRequired, got %v", err)
	}
	u.MFAAt, u.SteppedUp = w.clock(), true
	// The policy is met; consent to a third-party client comes after it.
	if _, err := w.srv.CompleteLogin(w.ctx, id, u); !isErr(err, authserver.ErrConsentRequired) {
		t.Fatalf("after step-up: want ErrConsentRequired, got %v", err)
	}
	if err := w.srv.GrantConsent(w.ctx, id, u.UserID); err != nil {
		t.Fatal(err)
	}
	to, err := w.srv.CompleteLogin(w.ctx, id, u)
	if err != nil || !strings.Contains(to, "code=") {
		t.Fatalf("after step-up: %q %v", to, err)
	}
}

func TestMaxAgeAndAbort(t *testing.T) {
	w := newWorld(t)
	spa := w.spa()
	_, ch := pkce()
	start := func(extra url.Values) string {
		q := url.Values{"response_type": {"code"}, "client_id": {spa.ClientID}, "redirect_uri": {redirectBase},
			"scope": {"openid"}, "state": {"s"}, "code_challenge": {ch}, "code_challenge_method": {"S256"}}
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
		return loc.Query().Get("auth_request")
	}
	id := start(url.Values{"max_age": {"60"}})
	old := authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock().Add(-time.Hour)}
	if _, err := w.srv.CompleteLogin(w.ctx, id, old); !isErr(err, authserver.ErrReauthenticationRequired) {
		t.Fatalf("max_age: %v", err)
	}
	id = start(url.Values{"prompt": {"none"}})
	lr, _ := w.srv.LoginRequest(w.ctx, id)
	if len(lr.Prompt) != 1 || lr.Prompt[0] != "none" {
		t.Fatalf("prompt not passed to the login page: %+v", lr)
	}
	to, err := w.srv.AbortLogin(w.ctx, id, "login_required", "no session")
	if err != nil || !strings.Contains(to, "error=login_required") || !strings.Contains(to, "state=s") {
		t.Fatalf("abort: %q %v", to, err)
	}
}

func TestEndSession(t *testing.T) {
	w := newWorld(t)
	c, secret := w.client(authserver.RegisterInput{Name: "web", Type: "web", RedirectURIs: []string{redirectBase},
		PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"}})
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(q url.Values) *http.Response {
		resp, err := cl.Get(w.issuer + "/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// Without a portal to ask, a client_id alone (anyone can name one) does
	// not send the browser to the client: only an id_token_hint does.
	resp := get(url.Values{"client_id": {c.ClientID}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"x"}})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != w.issuer+"/" {
		t.Fatalf("end session without hint: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := w.codeFor(c.ClientID, "openid", "")
	_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, c.ClientID, secret)
	resp = get(url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"x"}})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:9/bye?state=x" {
		t.Fatalf("end session with hint: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = get(url.Values{"client_id": {c.ClientID}, "post_logout_redirect_uri": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unregistered post-logout URI: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// denyAfterStepUpGate challenges at authorize and, after the step-up,
// denies: the policy would refuse the user whatever MFA they do.
type denyAfterStepUpGate struct{}

func (denyAfterStepUpGate) Check(_ context.Context, r authserver.GateRequest) (authserver.Verdict, error) {
	if r.Point != authserver.PointAuthorize {
		return authserver.Verdict{Action: authserver.Permit}, nil
	}
	if r.Context.SteppedUp {
		return authserver.Verdict{Action: authserver.Deny, Reason: "not in an allowed group"}, nil
	}
	return authserver.Verdict{Action: authserver.Challenge, Reason: "new location"}, nil
}

// A Challenge that would end in Deny after the step-up is denied at once:
// the user is not sent to do (or set up) MFA only to be refused.
func TestChallengeThatWouldDenyAfterStepUpDeniesAtOnce(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) {
		c.Gate = authserver.Chain{authserver.DefaultGate{}, denyAfterStepUpGate{}}
	})
	spa := w.spa()
	_, ch := pkce()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.issuer + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {spa.ClientID},
		"redirect_uri": {redirectBase}, "scope": {"openid"}, "code_challenge": {ch}, "code_challenge_method": {"S256"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	to, err := w.srv.CompleteLogin(w.ctx, loc.Query().Get("auth_request"), authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock()})
	if err != nil || !strings.Contains(to, "error=access_denied") {
		t.Fatalf("want an access_denied redirect at once, got %q %v", to, err)
	}
}

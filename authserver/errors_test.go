package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/authserver"
)

// TestTokenEndpointErrors drives every RFC 6749 §5.2 error the token
// endpoint can answer.
func TestTokenEndpointErrors(t *testing.T) {
	w := newWorld(t)
	svc, secret := w.service("orders:read")
	web, webSecret := w.web("orders:read")
	cases := []struct {
		name       string
		form       url.Values
		id, secret string
		status     int
		code       string
	}{
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, "nope", 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}}, "nobody", "x", 401, "invalid_client"},
		{"no client at all", url.Values{"grant_type": {"client_credentials"}}, "", "", 400, "invalid_request"},
		{"missing grant_type", url.Values{}, svc.ClientID, secret, 400, "invalid_request"},
		{"unsupported grant", url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, svc.ClientID, secret, 400, "unsupported_grant_type"},
		{"grant not allowed for the client", url.Values{"grant_type": {"client_credentials"}}, web.ClientID, webSecret, 400, "unauthorized_client"},
		{"scope not granted", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin:all"}}, svc.ClientID, secret, 400, "invalid_scope"},
		{"scope outside the plan", url.Values{"grant_type": {"client_credentials"}, "scope": {"reports:read"}}, svc.ClientID, secret, 400, "invalid_scope"},
		{"bad code", url.Values{"grant_type": {"authorization_code"}, "code": {"forged"}, "redirect_uri": {redirectBase}}, web.ClientID, webSecret, 400, "invalid_grant"},
		{"code without redirect_uri", url.Values{"grant_type": {"authorization_code"}, "code": {"forged"}}, web.ClientID, webSecret, 400, "invalid_request"},
		{"bad refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"forged"}}, web.ClientID, webSecret, 400, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, b := w.post("/token", tc.form, tc.id, tc.secret)
			wantError(t, st, b, tc.status, tc.code)
		})
	}
	t.Run("401 after Basic carries a challenge", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, w.issuer+"/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(svc.ClientID, "wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("GET is refused", func(t *testing.T) {
		resp, err := http.Get(w.issuer + "/token?grant_type=client_credentials&client_id=" + svc.ClientID + "&client_secret=" + secret)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET /token: %d", resp.StatusCode)
		}
	})
}

func TestAuthorizeErrors(t *testing.T) {
	w := newWorld(t)
	spa := w.spa("orders:read")
	_, challenge := pkce()
	base := func() url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {spa.ClientID}, "redirect_uri": {redirectBase},
			"scope": {"openid"}, "state": {"s1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	// Errors that must not be sent to the redirect URI.
	for name, mod := range map[string]func(url.Values){
		"wrong redirect URI":      func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/other") },
		"redirect URI with extra": func(q url.Values) { q.Set("redirect_uri", redirectBase+"?x=1") },
		"unknown client":          func(q url.Values) { q.Set("client_id", "nobody") },
	} {
		t.Run(name, func(t *testing.T) {
			q := base()
			mod(q)
			u, status, _ := w.authorize(q)
			if u != nil || status != 400 {
				t.Fatalf("got redirect %v status %d; want a 400 page", u, status)
			}
		})
	}
	// Errors delivered to the client with state.
	for _, tc := range []struct {
		name string
		mod  func(url.Values)
		code string
	}{
		{"implicit", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"hybrid", func(q url.Values) { q.Set("response_type", "code id_token") }, "unsupported_response_type"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"PKCE without method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request"},
		{"public client without PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"scope not allowed", func(q url.Values) { q.Set("scope", "openid admin:all") }, "invalid_scope"},
		{"request object", func(q url.Values) { q.Set("request", "eyJhbGciOiJub25lIn0.e30.") }, "request_not_supported"},
		{"response_mode fragment", func(q url.Values) { q.Set("response_mode", "fragment") }, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			tc.mod(q)
			u, status, body := w.authorize(q)
			if u == nil {
				t.Fatalf("no redirect: %d %s", status, body)
			}
			got := u.Query()
			if u.Fragment != "" { // implicit errors travel in the fragment
				got, _ = url.ParseQuery(u.Fragment)
			}
			if got.Get("error") != tc.code || got.Get("state") != "s1" {
				t.Fatalf("redirect %v, want error %s with state", u, tc.code)
			}
			// RFC 9207: discovery advertises iss, so error responses carry it too.
			if got.Get("iss") != w.issuer {
				t.Fatalf("redirect %v lacks iss=%s", u, w.issuer)
			}
		})
	}
}

func TestCodeExchangeErrors(t *testing.T) {
	w := newWorld(t)
	spa := w.spa("orders:read")
	exchange := func(code, verifier, redirect string) (int, map[string]any) {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
			"client_id": {spa.ClientID}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		return w.post("/token", f, "", "")
	}
	t.Run("missing verifier", func(t *testing.T) {
		_, ch := pkce()
		st, b := exchange(w.codeFor(spa.ClientID, "openid", ch), "", redirectBase)
		wantError(t, st, b, 400, "invalid_request")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		_, ch := pkce()
		other, _ := pkce()
		st, b := exchange(w.codeFor(spa.ClientID, "openid", ch), other, redirectBase)
		wantError(t, st, b, 400, "invalid_grant")
	})
	t.Run("wrong redirect URI", func(t *testing.T) {
		v, ch := pkce()
		st, b := exchange(w.codeFor(spa.ClientID, "openid", ch), v, "http://127.0.0.1:9/other")
		wantError(t, st, b, 400, "invalid_grant")
	})
	t.Run("expired code", func(t *testing.T) {
		v, ch := pkce()
		code := w.codeFor(spa.ClientID, "openid", ch)
		w.advance(61 * time.Second)
		st, b := exchange(code, v, redirectBase)
		wantError(t, st, b, 400, "invalid_grant")
	})
	t.Run("another client's code", func(t *testing.T) {
		v, ch := pkce()
		code := w.codeFor(spa.ClientID, "openid", ch)
		web, secret := w.web()
		st, b := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectBase}, "code_verifier": {v}}, web.ClientID, secret)
		wantError(t, st, b, 400, "invalid_grant")
	})
	t.Run("replayed code revokes what it issued", func(t *testing.T) {
		v, ch := pkce()
		code := w.codeFor(spa.ClientID, "openid offline_access", ch)
		st, tok := exchange(code, v, redirectBase)
		if st != 200 {
			t.Fatalf("first exchange: %d %v", st, tok)
		}
		st, b := exchange(code, v, redirectBase)
		wantError(t, st, b, 400, "invalid_grant")
		web, secret := w.web()
		if _, in := w.post("/introspect", url.Values{"token": {tok["access_token"].(string)}}, web.ClientID, secret); in["active"] != false {
			t.Errorf("access token from a replayed code is still active: %v", in)
		}
		st, b = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)},
			"client_id": {spa.ClientID}}, "", "")
		wantError(t, st, b, 400, "invalid_grant")
	})
}

func TestLoginContract(t *testing.T) {
	w := newWorld(t)
	spa := w.spa()
	_, ch := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {spa.ClientID}, "redirect_uri": {redirectBase},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {ch}, "code_challenge_method": {"S256"}}
	// Capture the auth request id instead of completing the login.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(w.issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("auth_request")
	lr, err := w.srv.LoginRequest(w.ctx, id)
	if err != nil || lr.ClientID != spa.ClientID || lr.ClientName != "spa" {
		t.Fatalf("login request: %v %+v", err, lr)
	}
	// A user of another organization is refused by the default gate.
	other := storeOrg(w, "other")
	stranger := w.user
	stranger.ID, stranger.OrgID, stranger.Email = "", other.ID, "x@other.example"
	if err := w.st.CreateUser(w.ctx, &stranger); err != nil {
		t.Fatal(err)
	}
	to, err := w.srv.CompleteLogin(w.ctx, id, authserver.LoginUser{UserID: stranger.ID, AuthTime: w.clock()})
	if err != nil || !strings.Contains(to, "error=access_denied") || !strings.HasPrefix(to, redirectBase) {
		t.Fatalf("cross-org login: %q %v", to, err)
	}
	if _, err := w.srv.CompleteLogin(w.ctx, id, authserver.LoginUser{UserID: w.user.ID}); !isErr(err, authserver.ErrUnknownAuthRequest) {
		t.Fatalf("a denied request must be gone: %v", err)
	}
}

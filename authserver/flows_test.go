package authserver_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"portico/authserver"
	"portico/store"
)

func TestDiscoveryAdvertisesOnlyWhatIsAccepted(t *testing.T) {
	w := newWorld(t)
	p, err := oidc.NewProvider(w.ctx, w.issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		ResponseTypes  []string `json:"response_types_supported"`
		PKCE           []string `json:"code_challenge_methods_supported"`
		Registration   string   `json:"registration_endpoint"`
		Introspection  string   `json:"introspection_endpoint"`
		Revocation     string   `json:"revocation_endpoint"`
		EndSession     string   `json:"end_session_endpoint"`
		Scopes         []string `json:"scopes_supported"`
		IssParam       bool     `json:"authorization_response_iss_parameter_supported"`
		GrantTypes     []string `json:"grant_types_supported"`
		ResponseModes  []string `json:"response_modes_supported"`
		TokenEndpoint  string   `json:"token_endpoint"`
		UserinfoEndpnt string   `json:"userinfo_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(meta.ResponseTypes, []string{"code"}) || !slices.Equal(meta.PKCE, []string{"S256"}) ||
		!slices.Equal(meta.ResponseModes, []string{"query"}) {
		t.Errorf("advertises %v / %v / %v", meta.ResponseTypes, meta.PKCE, meta.ResponseModes)
	}
	for name, v := range map[string]string{"registration": meta.Registration, "introspection": meta.Introspection,
		"revocation": meta.Revocation, "end_session": meta.EndSession, "token": meta.TokenEndpoint, "userinfo": meta.UserinfoEndpnt} {
		if !strings.HasPrefix(v, w.issuer+"/") {
			t.Errorf("%s endpoint %q is not under the issuer", name, v)
		}
	}
	if !slices.Contains(meta.Scopes, "orders:read") || !meta.IssParam || slices.Contains(meta.GrantTypes, "implicit") {
		t.Errorf("scopes %v, iss param %v, grants %v", meta.Scopes, meta.IssParam, meta.GrantTypes)
	}
}

func TestClientCredentialsIssuesRFC9068AccessToken(t *testing.T) {
	w := newWorld(t)
	c, secret := w.service("orders:read", "reports:read")
	cc := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: secret, TokenURL: w.issuer + "/token",
		Scopes: []string{"orders:read"}}
	tok, err := cc.Token(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Error("client_credentials must not issue a refresh token")
	}
	h, p := claims(t, tok.AccessToken)
	if h["typ"] != "at+jwt" || h["alg"] != "ES256" || h["kid"] == "" {
		t.Errorf("header %v", h)
	}
	if p["iss"] != w.issuer || p["sub"] != c.ClientID || p["client_id"] != c.ClientID || p["scope"] != "orders:read" ||
		p["org"] != "acme" || p["jti"] == "" || p["exp"] == nil || p["iat"] == nil || p["aud"] == nil {
		t.Errorf("claims %v", p)
	}
	if f, _ := p["features"].([]any); len(f) != 2 {
		t.Errorf("features %v", p["features"])
	}
	// The signature verifies against the published JWKS.
	ks := oidc.NewRemoteKeySet(w.ctx, w.issuer+"/jwks")
	if _, err := ks.VerifySignature(w.ctx, tok.AccessToken); err != nil {
		t.Fatalf("JWKS does not verify the access token: %v", err)
	}
	// No scope asked: every API scope the client holds.
	cc.Scopes = nil
	tok, err = cc.Token(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, p := claims(t, tok.AccessToken); p["scope"] != "orders:read reports:read" {
		t.Errorf("default scope %v", p["scope"])
	}
	// client_secret_post works as well as Basic.
	cc.AuthStyle = oauth2.AuthStyleInParams
	if _, err := cc.Token(w.ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAuthorizationCodeWithPKCERefreshAndOIDC(t *testing.T) {
	w := newWorld(t)
	spa := w.spa("orders:read")
	provider, err := oidc.NewProvider(w.ctx, w.issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: spa.ClientID, Endpoint: provider.Endpoint(), RedirectURL: redirectBase,
		Scopes: []string{"openid", "email", "profile", "groups", "offline_access", "orders:read"}}
	verifier := oauth2.GenerateVerifier()
	u, status, body := w.authorize(mustQuery(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n1"))))
	if u == nil || u.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", status, body)
	}
	tok, err := conf.Exchange(w.ctx, u.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: spa.ClientID}).Verify(w.ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	var ic struct {
		Email  string   `json:"email"`
		Name   string   `json:"name"`
		Groups []string `json:"groups"`
		Org    string   `json:"org"`
	}
	idt.Claims(&ic)
	if idt.Nonce != "n1" || idt.Subject != w.user.ID || ic.Email != w.user.Email || ic.Org != "acme" ||
		!slices.Contains(ic.Groups, "developers") {
		t.Errorf("id token %+v %+v", idt, ic)
	}
	if h, _ := claims(t, raw); h["alg"] != "RS256" {
		t.Errorf("id token alg %v", h["alg"])
	}
	if _, p := claims(t, tok.AccessToken); p["sub"] != w.user.ID || p["groups"] == nil || p["client_id"] != spa.ClientID {
		t.Errorf("access token %v", p)
	}
	if tok.RefreshToken == "" {
		t.Fatal("offline_access granted but no refresh token")
	}

	// userinfo through go-oidc.
	ui, err := provider.UserInfo(w.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if ui.Subject != w.user.ID || ui.Email != w.user.Email {
		t.Errorf("userinfo %+v", ui)
	}

	// Refresh rotates.
	first := tok.RefreshToken
	next, err := conf.TokenSource(w.ctx, &oauth2.Token{RefreshToken: first}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == "" || next.RefreshToken == first {
		t.Fatalf("refresh token not rotated: %q", next.RefreshToken)
	}
	// Reusing the rotated token revokes the family: the newest dies too.
	status2, b := w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first},
		"client_id": {spa.ClientID}}, "", "")
	wantError(t, status2, b, 400, "invalid_grant")
	status2, b = w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken},
		"client_id": {spa.ClientID}}, "", "")
	wantError(t, status2, b, 400, "invalid_grant")
}

func mustQuery(t *testing.T, authURL string) url.Values {
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestIntrospectionRevocationAndUserinfo(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read")
	code := w.codeFor(web.ClientID, "openid email offline_access orders:read", "")
	st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, web.ClientID, secret)
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	st, in := w.post("/introspect", url.Values{"token": {at}}, web.ClientID, secret)
	if st != 200 || in["active"] != true || in["sub"] != w.user.ID || in["scope"] != "openid email offline_access orders:read" || in["org"] != "acme" {
		t.Fatalf("introspect access: %d %v", st, in)
	}
	st, in = w.post("/introspect", url.Values{"token": {rt}}, web.ClientID, secret)
	if st != 200 || in["active"] != true || in["token_type"] != "refresh_token" {
		t.Fatalf("introspect refresh: %d %v", st, in)
	}
	// Another organization's client learns nothing.
	other := w.otherOrgService()
	st, in = w.post("/introspect", url.Values{"token": {at}}, other.id, other.secret)
	if st != 200 || in["active"] != false {
		t.Fatalf("cross-org introspection: %d %v", st, in)
	}
	// Introspection needs client authentication.
	st, in = w.post("/introspect", url.Values{"token": {at}}, web.ClientID, "wrong")
	wantError(t, st, in, 401, "invalid_client")

	// Revoke the access token: it introspects inactive and userinfo refuses it.
	if st, b := w.post("/revoke", url.Values{"token": {at}}, web.ClientID, secret); st != 200 {
		t.Fatalf("revoke: %d %v", st, b)
	}
	if _, in = w.post("/introspect", url.Values{"token": {at}}, web.ClientID, secret); in["active"] != false {
		t.Fatalf("revoked token introspects %v", in)
	}
	req, _ := http.NewRequest(http.MethodGet, w.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("userinfo with revoked token: %d %v", resp.StatusCode, resp.Header)
	}
	// Revoke the refresh token: the family is gone.
	w.post("/revoke", url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, web.ClientID, secret)
	st, b := w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, web.ClientID, secret)
	wantError(t, st, b, 400, "invalid_grant")
	// Unknown tokens are fine to revoke (RFC 7009 §2.2).
	if st, _ := w.post("/revoke", url.Values{"token": {"nonsense"}}, web.ClientID, secret); st != 200 {
		t.Fatalf("revoke unknown: %d", st)
	}
}

type creds struct{ id, secret string }

// otherOrgService registers a service client in a second organization.
func (w *world) otherOrgService() creds {
	w.t.Helper()
	o := storeOrg(w, "globex")
	c, secret, err := w.reg.Register(w.ctx, o.ID, cli, registerService())
	if err != nil {
		w.t.Fatal(err)
	}
	return creds{c.ClientID, secret}
}

func TestTokenExchangeAddsActClaim(t *testing.T) {
	w := newWorld(t)
	web, secret := w.web("orders:read", "orders:write")
	svc, svcSecret := w.service("orders:read")
	// The subject token is the web app's: svc needs the admin's setting.
	if _, err := w.reg.SetExchangeAnySubject(w.ctx, w.org.ID, svc.ClientID, cli, true); err != nil {
		t.Fatal(err)
	}
	code := w.codeFor(web.ClientID, "openid orders:read orders:write", "")
	_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, web.ClientID, secret)
	subject := tok["access_token"].(string)
	_, actorTok := w.post("/token", url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, svcSecret)
	actorToken := actorTok["access_token"].(string)

	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token": {subject}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"actor_token": {actorToken}, "actor_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"scope": {"orders:read"}, "audience": {web.ClientID}}
	st, b := w.post("/token", form, svc.ClientID, svcSecret)
	if st != 200 || b["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" {
		t.Fatalf("exchange: %d %v", st, b)
	}
	_, p := claims(t, b["access_token"].(string))
	act, _ := p["act"].(map[string]any)
	if p["sub"] != w.user.ID || p["scope"] != "orders:read" || act["sub"] != svc.ClientID || p["client_id"] != svc.ClientID {
		t.Fatalf("exchanged claims %v", p)
	}
	if aud, _ := p["aud"].([]any); len(aud) != 1 || aud[0] != web.ClientID {
		t.Errorf("aud %v", p["aud"])
	}
	// Wider scope than the subject token: invalid_scope.
	form.Set("scope", "reports:read")
	st, b = w.post("/token", form, svc.ClientID, svcSecret)
	wantError(t, st, b, 400, "invalid_scope")
	// Unknown audience: invalid_target.
	form.Set("scope", "orders:read")
	form.Set("audience", "https://elsewhere.example")
	st, b = w.post("/token", form, svc.ClientID, svcSecret)
	wantError(t, st, b, 400, "invalid_target")
	// Another organization's client cannot exchange this subject.
	other := w.otherOrgService()
	form.Del("audience")
	form.Del("actor_token")
	form.Del("actor_token_type")
	st, b = w.post("/token", form, other.id, other.secret)
	wantError(t, st, b, 400, "invalid_grant")
	_ = context.Background
}

func TestIDTokenAlgorithmFollowsRegistration(t *testing.T) {
	w := newWorld(t)
	for _, alg := range []string{"ES256", "PS256"} {
		c, secret := w.client(authserver.RegisterInput{Name: alg, Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
			IDTokenSignedAlg: alg})
		code := w.codeFor(c.ClientID, "openid", "")
		_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectBase}}, c.ClientID, secret)
		raw, _ := tok["id_token"].(string)
		p, err := oidc.NewProvider(w.ctx, w.issuer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Verifier(&oidc.Config{ClientID: c.ClientID, SupportedSigningAlgs: []string{alg}}).Verify(w.ctx, raw); err != nil {
			t.Fatalf("%s ID token: %v", alg, err)
		}
	}
	if _, _, err := w.reg.Register(w.ctx, w.org.ID, cli, authserver.RegisterInput{Name: "x", Type: store.ClientWeb,
		RedirectURIs: []string{redirectBase}, IDTokenSignedAlg: "none"}); err == nil {
		t.Fatal("alg none accepted")
	}
}

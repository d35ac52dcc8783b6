package authserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// dpopTransport adds a fresh DPoP proof to every request, the way a DPoP
// client wraps an HTTP client that knows nothing about DPoP.
type dpopTransport struct {
	k   *dpopKey
	now func() time.Time
}

func (d dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = ""
	r.Header.Set("DPoP", d.k.proof(r.Method, u.String(), d.now(), proofOpts{}))
	return http.DefaultTransport.RoundTrip(r)
}

// TestInteropXOAuth2WithPARAndDPoP: golang.org/x/oauth2, which knows neither
// PAR nor DPoP, works with both when the proof rides on its HTTP client:
// client credentials, and a pushed code flow exchanged and refreshed by
// x/oauth2, every token DPoP-bound.
func TestInteropXOAuth2WithPARAndDPoP(t *testing.T) {
	w := newWorld(t)
	k := newDPoPKey(t)
	ctx := context.WithValue(w.ctx, oauth2.HTTPClient, &http.Client{Transport: dpopTransport{k: k, now: w.clock}})

	svc, svcSecret := w.service("orders:read")
	cc := clientcredentials.Config{ClientID: svc.ClientID, ClientSecret: svcSecret, TokenURL: w.issuer + "/token",
		Scopes: []string{"orders:read"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, p := claims(t, tok.AccessToken); tok.Type() != "DPoP" || p["cnf"].(map[string]any)["jkt"] != k.jkt {
		t.Fatalf("client credentials: type %q, claims %v", tok.Type(), p)
	}

	web, secret := w.web("orders:read")
	conf := oauth2.Config{ClientID: web.ClientID, ClientSecret: secret, RedirectURL: redirectBase,
		Endpoint: oauth2.Endpoint{AuthURL: w.issuer + "/authorize", TokenURL: w.issuer + "/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", "offline_access", "orders:read"}}
	verifier := oauth2.GenerateVerifier()
	params := authParams(web.ClientID, oauth2.S256ChallengeFromVerifier(verifier))
	params.Set("scope", "openid offline_access orders:read")
	ru := w.push(params, web.ClientID, secret).str("request_uri")
	u, _, body := w.authorizeURI(web.ClientID, ru)
	if u == nil || u.Query().Get("code") == "" {
		t.Fatalf("authorize: %v %s", u, body)
	}
	tok, err = conf.Exchange(ctx, u.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Type() != "DPoP" || tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("exchange: %q %+v", tok.Type(), tok)
	}
	tok.Expiry = time.Now().Add(-time.Minute) // make x/oauth2 refresh
	next, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if _, p := claims(t, next.AccessToken); next.Type() != "DPoP" || next.AccessToken == tok.AccessToken || p["cnf"].(map[string]any)["jkt"] != k.jkt {
		t.Fatalf("refresh: %q %v", next.Type(), p)
	}
}

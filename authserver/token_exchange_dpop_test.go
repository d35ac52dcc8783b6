package authserver_test

import (
	"net/url"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

// TestTokenExchangeHoldsBoundSubjectsToTheirKey: a DPoP-bound subject or
// actor token is exchanged only with a proof from the key it is bound to. A
// thief holding the token but not the key gets nothing, neither by sending
// no proof (which would otherwise yield a bearer token) nor by proving
// possession of a key of their own (which would rebind it to them).
func TestTokenExchangeHoldsBoundSubjectsToTheirKey(t *testing.T) {
	w := newWorld(t)
	svc, secret := w.service("orders:read")
	htu := w.issuer + "/token"
	owner, thief := newDPoPKey(t), newDPoPKey(t)
	bound := w.send("/token", ccForm, svc.ClientID, secret, owner.proof("POST", htu, w.clock(), proofOpts{}))
	if bound.status != 200 || bound.str("token_type") != "DPoP" {
		t.Fatalf("bound token: %d %v", bound.status, bound.body)
	}
	bearer := w.send("/token", ccForm, svc.ClientID, secret).str("access_token")
	exchange := func(subject, actor string, proofs ...string) reply {
		t.Helper()
		f := url.Values{"grant_type": {exchangeGrant}, "subject_token": {subject}, "subject_token_type": {accessTokenType}}
		if actor != "" {
			f.Set("actor_token", actor)
			f.Set("actor_token_type", accessTokenType)
		}
		return w.send("/token", f, svc.ClientID, secret, proofs...)
	}

	wantOAuthError(t, exchange(bound.str("access_token"), ""), 400, "invalid_dpop_proof")
	wantOAuthError(t, exchange(bound.str("access_token"), "", thief.proof("POST", htu, w.clock(), proofOpts{})), 400, "invalid_grant")
	// The actor token is held to its key the same way.
	wantOAuthError(t, exchange(bearer, bound.str("access_token")), 400, "invalid_dpop_proof")
	wantOAuthError(t, exchange(bearer, bound.str("access_token"), thief.proof("POST", htu, w.clock(), proofOpts{})), 400, "invalid_grant")

	// The key's holder exchanges it, and the result stays bound to that key.
	r := exchange(bound.str("access_token"), "", owner.proof("POST", htu, w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("exchange with the subject's key: %d %v", r.status, r.body)
	}
	if _, p := claims(t, r.str("access_token")); p["cnf"] == nil || p["cnf"].(map[string]any)["jkt"] != owner.jkt {
		t.Fatalf("cnf %v, want jkt %s", p["cnf"], owner.jkt)
	}
	// An unbound subject stays exchangeable with or without a proof.
	if r := exchange(bearer, ""); r.status != 200 || r.str("token_type") != "Bearer" {
		t.Fatalf("bearer exchange: %d %v", r.status, r.body)
	}
}

// TestTokenExchangeHoldsBoundExternalSubjectsToTheirKey: a trusted
// issuer's token with cnf.jkt is held to that key as Portico's own are.
func TestTokenExchangeHoldsBoundExternalSubjectsToTheirKey(t *testing.T) {
	w := newWorld(t, loopbackAllowed)
	idp := newPartnerIdP(t)
	if _, err := w.srv.Issuers().Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: idp.issuer}); err != nil {
		t.Fatal(err)
	}
	gw, secret := w.service("orders:read")
	htu := w.issuer + "/token"
	owner, thief := newDPoPKey(t), newDPoPKey(t)
	subject := idp.mint(w.assertion(idp.issuer, "alice", map[string]any{"cnf": map[string]any{"jkt": owner.jkt}}))
	f := url.Values{"grant_type": {exchangeGrant}, "subject_token": {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}}
	wantOAuthError(t, w.send("/token", f, gw.ClientID, secret), 400, "invalid_dpop_proof")
	wantOAuthError(t, w.send("/token", f, gw.ClientID, secret, thief.proof("POST", htu, w.clock(), proofOpts{})), 400, "invalid_grant")
	r := w.send("/token", f, gw.ClientID, secret, owner.proof("POST", htu, w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("exchange with the subject's key: %d %v", r.status, r.body)
	}
	if _, p := claims(t, r.str("access_token")); p["cnf"] == nil || p["cnf"].(map[string]any)["jkt"] != owner.jkt {
		t.Fatalf("cnf %v, want jkt %s", p["cnf"], owner.jkt)
	}
}

// TestJWTBearerHoldsBoundAssertionsToTheirKey: an assertion with cnf.jkt
// (a partner's DPoP-bound token) gives a token through the jwt-bearer grant
// only with a proof from that key, and the token is bound to it: a stolen
// bound assertion is not laundered into a bearer token.
func TestJWTBearerHoldsBoundAssertionsToTheirKey(t *testing.T) {
	w := newWorld(t, loopbackAllowed)
	idp := newPartnerIdP(t)
	ti, err := w.srv.Issuers().Create(w.ctx, w.org.ID, cli, authserver.IssuerInput{Issuer: idp.issuer, MaxAge: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	bound, _ := w.client(authserver.RegisterInput{Name: "partner-sync", Type: store.ClientService,
		GrantTypes: []string{jwtBearerGrant}, TokenEndpointAuthMethod: "none", TrustedIssuerID: ti.ID, Scopes: []string{"orders:read"}})
	htu := w.issuer + "/token"
	owner, thief := newDPoPKey(t), newDPoPKey(t)
	form := func() url.Values { // assertions are single-use: a new one per try
		a := idp.mint(w.assertion(idp.issuer, "alice", map[string]any{"cnf": map[string]any{"jkt": owner.jkt}}))
		return url.Values{"grant_type": {jwtBearerGrant}, "client_id": {bound.ClientID}, "assertion": {a}}
	}
	wantOAuthError(t, w.send("/token", form(), "", ""), 400, "invalid_dpop_proof")
	wantOAuthError(t, w.send("/token", form(), "", "", thief.proof("POST", htu, w.clock(), proofOpts{})), 400, "invalid_grant")
	r := w.send("/token", form(), "", "", owner.proof("POST", htu, w.clock(), proofOpts{}))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("jwt-bearer with the assertion's key: %d %v", r.status, r.body)
	}
	if _, p := claims(t, r.str("access_token")); p["cnf"] == nil || p["cnf"].(map[string]any)["jkt"] != owner.jkt {
		t.Fatalf("cnf %v, want jkt %s", p["cnf"], owner.jkt)
	}
}

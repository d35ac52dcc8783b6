package authserver_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"portico/authserver"
	"portico/store"
)

// fapiClient is a confidential client held to the FAPI 2.0 profile, with
// an ES256 key for its assertions and an RS256 key registered beside it.
type fapiClient struct {
	store.Client
	es  *ecdsa.PrivateKey
	rsa crypto.Signer
	dp  *dpopKey
}

func newFAPIClient(w *world) *fapiClient {
	w.t.Helper()
	es, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsaKey()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: es.Public(), KeyID: "es", Algorithm: "ES256", Use: "sig"},
		{Key: rk.Public(), KeyID: "rs", Algorithm: "RS256", Use: "sig"}}}
	jwks, _ := json.Marshal(set)
	c, _ := w.client(authserver.RegisterInput{Name: "bank", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		Scopes: []string{"orders:read"}, TokenEndpointAuthMethod: "private_key_jwt", JWKS: string(jwks), IDTokenSignedAlg: "ES256"})
	on := true
	c, err := w.reg.SetSecurity(w.ctx, w.org.ID, c.ClientID, cli, authserver.ClientSecurity{FAPI2: &on})
	if err != nil {
		w.t.Fatal(err)
	}
	return &fapiClient{Client: c, es: es, rsa: rk, dp: newDPoPKey(w.t)}
}

// assertion signs a private_key_jwt client assertion.
func assertion(t testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, kid, clientID, aud string, now time.Time) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: clientID, Subject: clientID, Audience: jwt.Audience{aud},
		Expiry: jwt.NewNumericDate(now.Add(time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: store.NewID()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authn adds an ES256 (or, with rs, RS256) client assertion to form.
func (f *fapiClient) authn(w *world, form url.Values, rs bool) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	a := assertion(w.t, f.es, jose.ES256, "es", f.ClientID, w.issuer, w.clock())
	if rs {
		a = assertion(w.t, f.rsa, jose.RS256, "rs", f.ClientID, w.issuer, w.clock())
	}
	out.Set("client_assertion", a)
	out.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	return out
}

func (f *fapiClient) parProof(w *world) string {
	return f.dp.proof("POST", w.issuer+"/par", w.clock(), proofOpts{})
}

func (f *fapiClient) tokenProof(w *world) string {
	return f.dp.proof("POST", w.issuer+"/token", w.clock(), proofOpts{})
}

// code runs PAR and /authorize by the profile and returns code and verifier.
func (f *fapiClient) code(w *world) (string, string) {
	w.t.Helper()
	verifier, challenge := pkce()
	r := w.push(f.authn(w, authParams(f.ClientID, challenge), false), "", "", f.parProof(w))
	if r.status != 201 {
		w.t.Fatalf("par: %d %v", r.status, r.body)
	}
	u, _, body := w.authorizeURI(f.ClientID, r.str("request_uri"))
	if u == nil || u.Query().Get("code") == "" || u.Query().Get("iss") != w.issuer {
		w.t.Fatalf("authorize: %v %s", u, body)
	}
	return u.Query().Get("code"), verifier
}

func TestFAPI2ClientCompletesTheFlow(t *testing.T) {
	w := newWorld(t)
	f := newFAPIClient(w)
	code, verifier := f.code(w)
	form := codeForm(f.ClientID, code, verifier)
	form.Del("client_id")
	r := w.send("/token", f.authn(w, form, false), "", "", f.tokenProof(w))
	if r.status != 200 || r.str("token_type") != "DPoP" {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	if h, _ := claims(t, r.str("id_token")); h["alg"] != "ES256" {
		t.Fatalf("id token alg %v", h["alg"])
	}
	if _, p := claims(t, r.str("access_token")); p["cnf"].(map[string]any)["jkt"] != f.dp.jkt {
		t.Fatalf("access token cnf %v", p["cnf"])
	}
}

// TestFAPI2RulesEachBrokenOnce: a FAPI 2.0 client's request that breaks one
// rule of the profile gets the error the profile names.
func TestFAPI2RulesEachBrokenOnce(t *testing.T) {
	w := newWorld(t, func(c *authserver.Config) { c.Lifetimes.Code = 5 * time.Minute })
	f := newFAPIClient(w)
	_, challenge := pkce()
	par := func(change func(url.Values), rs bool, proofs ...string) reply {
		p := authParams(f.ClientID, challenge)
		if change != nil {
			change(p)
		}
		return w.push(f.authn(w, p, rs), "", "", proofs...)
	}
	t.Run("authorization request not pushed", func(t *testing.T) {
		u, _, body := w.authorize(authParams(f.ClientID, challenge))
		if u == nil || u.Query().Get("error") != "invalid_request" || u.Query().Get("iss") != w.issuer {
			t.Fatalf("%v %s", u, body)
		}
	})
	t.Run("no PKCE", func(t *testing.T) {
		wantOAuthError(t, par(func(p url.Values) { p.Del("code_challenge"); p.Del("code_challenge_method") }, false, f.parProof(w)), 400, "invalid_request")
	})
	t.Run("no redirect_uri in the pushed request", func(t *testing.T) {
		wantOAuthError(t, par(func(p url.Values) { p.Del("redirect_uri") }, false, f.parProof(w)), 400, "invalid_request")
	})
	t.Run("client assertion signed with RS256 at /par", func(t *testing.T) {
		wantOAuthError(t, par(nil, true, f.parProof(w)), 401, "invalid_client")
	})
	t.Run("no DPoP key for the code", func(t *testing.T) {
		wantOAuthError(t, par(nil, false), 400, "invalid_dpop_proof")
	})
	t.Run("token request without DPoP", func(t *testing.T) {
		code, verifier := f.code(w)
		wantOAuthError(t, w.send("/token", f.authn(w, codeForm(f.ClientID, code, verifier), false), "", ""), 400, "invalid_dpop_proof")
	})
	t.Run("client assertion signed with RS256 at /token", func(t *testing.T) {
		code, verifier := f.code(w)
		wantOAuthError(t, w.send("/token", f.authn(w, codeForm(f.ClientID, code, verifier), true), "", "", f.tokenProof(w)), 401, "invalid_client")
	})
	t.Run("code older than 60 seconds", func(t *testing.T) {
		code, verifier := f.code(w)
		w.advance(61 * time.Second)
		wantOAuthError(t, w.send("/token", f.authn(w, codeForm(f.ClientID, code, verifier), false), "", "", f.tokenProof(w)), 400, "invalid_grant")
	})
	t.Run("client secret instead of private_key_jwt", func(t *testing.T) {
		web, secret := w.web("orders:read")
		// Behind the registrar's back: the token endpoint holds the line too.
		if _, _, err := w.st.UpdateClient(w.ctx, w.org.ID, web.ID, func(c *store.Client) error { c.FAPI2 = true; return nil }); err != nil {
			t.Fatal(err)
		}
		r := w.send("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, web.ClientID, secret,
			newDPoPKey(t).proof("POST", w.issuer+"/token", w.clock(), proofOpts{}))
		wantOAuthError(t, r, 401, "invalid_client")
		wantOAuthError(t, w.push(authParams(web.ClientID, challenge), web.ClientID, secret), 401, "invalid_client")
	})
	t.Run("RS256 ID tokens are not issued", func(t *testing.T) {
		if _, _, err := w.st.UpdateClient(w.ctx, w.org.ID, f.ID, func(c *store.Client) error { c.IDTokenSignedAlg = "RS256"; return nil }); err != nil {
			t.Fatal(err)
		}
		code, verifier := f.code(w)
		r := w.send("/token", f.authn(w, codeForm(f.ClientID, code, verifier), false), "", "", f.tokenProof(w))
		if h, _ := claims(t, r.str("id_token")); r.status != 200 || h["alg"] != "PS256" {
			t.Fatalf("%d id token header %v", r.status, h)
		}
	})
}

// TestFAPI2OnlyForClientsThatFit: the registrar refuses the profile for a
// client that cannot meet it, and stores nothing.
func TestFAPI2OnlyForClientsThatFit(t *testing.T) {
	w := newWorld(t)
	web, _ := w.web("orders:read")
	spa := w.spa("orders:read")
	on := true
	for name, id := range map[string]string{"client secret": web.ClientID, "public client": spa.ClientID} {
		_, err := w.reg.SetSecurity(w.ctx, w.org.ID, id, cli, authserver.ClientSecurity{FAPI2: &on})
		var ve *authserver.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: %v", name, err)
		}
		c, _ := w.st.ClientByClientID(w.ctx, w.org.ID, id)
		if c.FAPI2 {
			t.Fatalf("%s: stored anyway", name)
		}
	}
}

// TestFAPI2ClientUpdateStaysInProfile: editing a FAPI 2.0 client cannot
// take it out of the profile (here: RS256 ID tokens).
func TestFAPI2ClientUpdateStaysInProfile(t *testing.T) {
	w := newWorld(t)
	f := newFAPIClient(w)
	in := authserver.RegisterInput{Name: "bank", Type: store.ClientWeb, RedirectURIs: []string{redirectBase},
		Scopes: []string{"orders:read"}, TokenEndpointAuthMethod: "private_key_jwt", JWKS: f.JWKS, IDTokenSignedAlg: "RS256"}
	_, err := w.reg.Update(w.ctx, w.org.ID, f.ClientID, cli, in)
	var ve *authserver.ValidationError
	if !errors.As(err, &ve) || ve.For("id_token_signed_response_alg") == "" {
		t.Fatalf("update to RS256: %v", err)
	}
	in.IDTokenSignedAlg = "PS256"
	if _, err := w.reg.Update(w.ctx, w.org.ID, f.ClientID, cli, in); err != nil {
		t.Fatalf("update to PS256: %v", err)
	}
}

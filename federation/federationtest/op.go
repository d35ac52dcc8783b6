// Package federationtest runs real upstream identity providers inside
// tests: a small but genuine OpenID provider (discovery, JWKS, ES256-signed
// ID tokens, PKCE) on go-jose, and a GitHub-shaped OAuth server. They speak
// the protocols over HTTP, so the connectors are tested against the wire,
// not against mocks of their libraries. The OP can be told to misbehave
// (wrong nonce, another audience) for the tests that must fail.
package federationtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Claims is the person the OP signs in (it asks no password: whoever
// reaches /authorize is this user).
type Claims struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name,omitempty"`
	Groups        []string `json:"groups,omitempty"`
}

// OP is a running OpenID provider.
type OP struct {
	URL          string
	ClientID     string
	ClientSecret string
	// User is who signs in; change it between sign-ins.
	User Claims
	// Misbehaviour for negative tests.
	WrongNonce bool
	Audience   string // when set, ID tokens are for this audience instead
	Now        func() time.Time

	key    *ecdsa.PrivateKey
	signer jose.Signer
	mu     sync.Mutex
	codes  map[string]grant
}

type grant struct {
	nonce, challenge, redirect string
}

// NewOP starts an OP for t with one registered client.
func NewOP(t testing.TB, clientID, clientSecret string, user Claims) *OP {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	op := &OP{ClientID: clientID, ClientSecret: clientSecret, User: user, key: key, signer: signer,
		codes: map[string]grant{}, Now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /keys", op.keys)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	op.URL = srv.URL
	return op
}

func (op *OP) discovery(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": op.URL, "authorization_endpoint": op.URL + "/authorize", "token_endpoint": op.URL + "/token",
		"jwks_uri": op.URL + "/keys", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

func (op *OP) keys(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
}

// authorize approves at once and returns the browser with a code.
func (op *OP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != op.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	code := random()
	op.mu.Lock()
	op.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	op.mu.Unlock()
	to, _ := url.Parse(q.Get("redirect_uri"))
	v := to.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	to.RawQuery = v.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// token checks client authentication and PKCE, then issues an ID token.
func (op *OP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
	}
	if id != op.ClientID || secret != op.ClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
		return
	}
	op.mu.Lock()
	g, found := op.codes[r.FormValue("code")]
	delete(op.codes, r.FormValue("code"))
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
	if !found || g.redirect != r.FormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	now := op.Now()
	aud, nonce := op.ClientID, g.nonce
	if op.Audience != "" {
		aud = op.Audience
	}
	if op.WrongNonce {
		nonce = "not-the-nonce"
	}
	claims := map[string]any{"iss": op.URL, "aud": aud, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": nonce, "sub": op.User.Subject, "email": op.User.Email, "email_verified": op.User.EmailVerified,
		"name": op.User.Name, "groups": op.User.Groups}
	payload, _ := json.Marshal(claims)
	jws, err := op.signer.Sign(payload)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	idt, _ := jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": random(), "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

package mcpserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/modelcontextprotocol/go-sdk/auth"
)

// issuer is a stand-in for Portico's metadata and JWKS, signing tokens
// with its own key, so every rule of the verifier can be broken on purpose.
func issuer(t *testing.T) (url string, sign func(typ string, claims map[string]any) string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := jose.JSONWebKey{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			json.NewEncoder(w).Encode(map[string]string{"issuer": ts.URL, "jwks_uri": ts.URL + "/jwks"})
		case "/jwks":
			json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	sign = func(typ string, claims map[string]any) string {
		opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", "k1")
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(claims)
		obj, err := s.Sign(b)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := obj.CompactSerialize()
		return out
	}
	return ts.URL, sign
}

func TestVerifier(t *testing.T) {
	iss, sign := issuer(t)
	const resource = "https://mcp.example.com/mcp"
	v := &verifier{cfg: Config{Issuer: iss, Resource: resource, HTTPClient: http.DefaultClient, Now: time.Now}}
	good := func() map[string]any {
		return map[string]any{"iss": iss, "sub": "u1", "aud": []string{resource}, "exp": time.Now().Add(time.Minute).Unix(),
			"client_id": "https://agent.example/client.json", "scope": "mcp:tools", "org": "acme"}
	}
	cases := []struct {
		name string
		typ  string
		edit func(map[string]any)
		ok   bool
	}{
		{"valid", "at+jwt", func(map[string]any) {}, true},
		{"aud as a string", "at+jwt", func(c map[string]any) { c["aud"] = resource }, true},
		{"an ID token", "JWT", func(map[string]any) {}, false},
		{"another audience", "at+jwt", func(c map[string]any) { c["aud"] = []string{iss} }, false},
		{"another issuer", "at+jwt", func(c map[string]any) { c["iss"] = "https://evil.example" }, false},
		{"expired", "at+jwt", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Second).Unix() }, false},
		{"sender-constrained", "at+jwt", func(c map[string]any) { c["cnf"] = map[string]string{"jkt": "x"} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.edit(c)
			info, err := v.verify(context.Background(), sign(tc.typ, c), nil)
			if tc.ok {
				if err != nil || info.UserID != "u1" || info.Extra["org"] != "acme" || info.Scopes[0] != "mcp:tools" {
					t.Fatalf("%v %+v", err, info)
				}
				return
			}
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
	if _, err := v.verify(context.Background(), "not.a-jwt", nil); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("garbage: %v", err)
	}
}

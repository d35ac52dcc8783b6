package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestIssuerCLI: create, list, show, test (a real partner JWKS on
// 127.0.0.1, reached through the upstream allow list), delete; another
// organization cannot see the issuer.
func TestIssuerCLI(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var iss string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": iss + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	iss = ts.URL

	tc := newTestCLI(t)
	tc.env["PORTICO_UPSTREAM_ALLOW"] = "127.0.0.1/32"
	tc.env["PORTICO_ISSUER"] = "http://localhost:8080"
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme")
	tc.mustRun("org", "create", "--slug", "globex", "--name", "Globex")
	if _, err := tc.run("issuer", "create", "--org", "acme", "--issuer", iss, "--alg", "HS256"); err == nil ||
		!strings.Contains(err.Error(), "never accepted") {
		t.Fatalf("HS256 accepted: %v", err)
	}
	var ti struct {
		ID     string `json:"id"`
		MaxAge string `json:"max_age"`
	}
	out := tc.mustRun("issuer", "create", "--org", "acme", "--issuer", iss, "--groups-claim", "groups",
		"--max-age", "10m", "--attribute", "department=dept", "--json")
	if err := json.Unmarshal([]byte(out), &ti); err != nil || ti.ID == "" || ti.MaxAge != "10m0s" {
		t.Fatalf("create: %v %s", err, out)
	}
	if out := tc.mustRun("issuer", "list", "--org", "acme"); !strings.Contains(out, iss) {
		t.Fatalf("list: %s", out)
	}
	if _, err := tc.run("issuer", "show", "--org", "globex", "--id", ti.ID); err == nil {
		t.Fatal("another organization sees the issuer")
	}

	now := time.Now()
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	claims, _ := json.Marshal(map[string]any{"iss": iss, "sub": "alice", "aud": "http://localhost:8080",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "groups": []string{"buyers"}})
	jws, _ := signer.Sign(claims)
	tok, _ := jws.CompactSerialize()
	if out := tc.mustRun("issuer", "test", "--org", "acme", "--token", tok); !strings.Contains(out, "would issue: sub=alice") ||
		!strings.Contains(out, "groups=buyers") {
		t.Fatalf("test: %s", out)
	}
	if out := tc.mustRun("issuer", "test", "--org", "globex", "--token", tok); !strings.Contains(out, "refused: ") ||
		!strings.Contains(out, "another organization") {
		t.Fatalf("test for globex: %s", out)
	}
	if _, err := tc.run("issuer", "delete", "--org", "globex", "--id", ti.ID); err == nil {
		t.Fatal("another organization deleted the issuer")
	}
	tc.mustRun("issuer", "delete", "--org", "acme", "--id", ti.ID)
	if out := tc.mustRun("issuer", "test", "--org", "acme", "--token", tok); !strings.Contains(out, "refused: ") {
		t.Fatalf("test after delete: %s", out)
	}
}

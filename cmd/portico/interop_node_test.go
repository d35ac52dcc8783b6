package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// nodeInteropDir returns interop/node ready to run: node is installed and
// oauth4webapi is in node_modules (installed with `npm ci` from the
// committed package-lock.json when absent). Without node, or when npm ci
// cannot run, the test is skipped with the reason; under CI=true it fails
// instead, so CI always runs it.
func nodeInteropDir(t *testing.T) string {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	skip := func(format string, args ...any) {
		t.Helper()
		if ci {
			t.Fatalf("CI=true: "+format, args...)
		}
		t.Skipf(format, args...)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "interop", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skip("node is not installed; the oauth4webapi interop test needs Node 20+")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oauth4webapi", "package.json")); err == nil {
		return dir
	}
	if _, err := exec.LookPath("npm"); err != nil {
		skip("interop/node has no node_modules and npm is not installed: run `npm ci` in interop/node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		skip("npm ci in interop/node failed (%v):\n%s", err, out)
	}
	return dir
}

// TestInteropOAuth4WebAPIFAPI2 runs interop/node/fapi2.mjs, a strict
// third-party client (oauth4webapi), against the portal wired as `portico
// serve --dpop-nonce` does it: discovery, PAR with DPoP (and the nonce
// dance), sign-in through the sandbox IdP over HTTP, the RFC 9207 iss
// check, the code exchange with PKCE and private_key_jwt (ES256) for a
// client held to FAPI 2.0, userinfo with DPoP and a DPoP-bound refresh.
func TestInteropOAuth4WebAPIFAPI2(t *testing.T) {
	dir := nodeInteropDir(t)
	db := filepath.Join(t.TempDir(), "portico.db")
	base, _ := startPortal(t, "--db", db, "--dpop-nonce")
	tc := &testCLI{t: t, env: map[string]string{"PORTICO_DB": db, "PORTICO_ISSUER": base}}
	tc.mustRun("org", "create", "--slug", "acme", "--name", "Acme", "--domain", "acme.example")
	tc.mustRun("connection", "create", "--org", "acme", "--type", "sandbox", "--name", "Acme sandbox",
		"--users", "tess@acme.example | Tess Tester", "--secret", "sandbox-pass")

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	priv, _ := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: "ES256"})
	const redirect = "http://127.0.0.1:9/cb"
	var c struct {
		ClientID string `json:"client_id"`
		FAPI2    bool   `json:"fapi2"`
	}
	if err := json.Unmarshal([]byte(tc.mustRun("client", "create", "--org", "acme", "--name", "Bank", "--type", "web",
		"--redirect-uri", redirect, "--auth-method", "private_key_jwt", "--jwks", string(pub), "--id-token-alg", "ES256",
		"--json")), &c); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(tc.mustRun("client", "update", "--client-id", c.ClientID, "--fapi2", "--first-party", "--json")), &c); err != nil || !c.FAPI2 {
		t.Fatalf("fapi2 not set: %v %+v", err, c)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "fapi2.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ISSUER="+base, "CLIENT_ID="+c.ClientID, "CLIENT_JWK="+string(priv), "CLIENT_KID=k1",
		"REDIRECT_URI="+redirect, "EMAIL=tess@acme.example", "PASSWORD=sandbox-pass")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fapi2.mjs: %v\n%s\n%s", err, out, stderr.String())
	}
	var got struct {
		RequestURI, ISS, TokenType, Sub, Email, RefreshedTokenType string
		NonceRetries                                               int
	}
	if err := json.Unmarshal(out, &struct {
		RequestURI         *string `json:"request_uri"`
		ISS                *string `json:"iss"`
		TokenType          *string `json:"token_type"`
		Sub                *string `json:"sub"`
		Email              *string `json:"email"`
		RefreshedTokenType *string `json:"refreshed_token_type"`
		NonceRetries       *int    `json:"nonce_retries"`
	}{&got.RequestURI, &got.ISS, &got.TokenType, &got.Sub, &got.Email, &got.RefreshedTokenType, &got.NonceRetries}); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("fapi2.mjs: %s", out)
	// oauth4webapi lower-cases token_type.
	if got.ISS != base || got.TokenType != "dpop" || got.RefreshedTokenType != "dpop" || got.Email != "tess@acme.example" ||
		got.Sub == "" || got.NonceRetries < 1 {
		t.Fatalf("interop result %+v", got)
	}
}

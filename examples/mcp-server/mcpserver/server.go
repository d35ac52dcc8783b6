// Package mcpserver is an MCP server protected by Portico access tokens: a
// resource server in the sense of RFC 9728. It answers unauthenticated
// requests with 401 and a WWW-Authenticate challenge naming its protected
// resource metadata (which Portico publishes for it), so an MCP client
// finds the authorization server on its own; it accepts only Portico access
// tokens (RFC 9068, typ at+jwt) whose aud is its own identifier and whose
// scope holds the one it requires. The runnable example is ../main.go.
package mcpserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Config says who issues tokens and who the server is.
type Config struct {
	// Issuer is Portico's issuer URL (PORTICO_ISSUER).
	Issuer string
	// Resource is the API identifier registered in Portico: the exact URL
	// clients reach the MCP endpoint at, e.g. https://mcp.example.com/mcp.
	Resource string
	// ResourceMetadataURL is where the RFC 9728 document is: Portico's
	// .../.well-known/oauth-protected-resource/apis/{id} for an API that
	// delegates it (`portico api show` prints the id).
	ResourceMetadataURL string
	// Scope every call needs, e.g. "mcp:tools".
	Scope string
	// HTTPClient fetches Portico's metadata and keys; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Handler returns the protected MCP endpoint (streamable HTTP transport).
func Handler(cfg Config) (http.Handler, error) {
	if cfg.Issuer == "" || cfg.Resource == "" || cfg.ResourceMetadataURL == "" || cfg.Scope == "" {
		return nil, errors.New("mcpserver: Issuer, Resource, ResourceMetadataURL and Scope are required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &verifier{cfg: cfg}
	server := mcp.NewServer(&mcp.Implementation{Name: "portico-example", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Who the access token says is calling"}, whoami)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	return auth.RequireBearerToken(v.verify, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: cfg.ResourceMetadataURL,
		Scopes:              []string{cfg.Scope},
	})(h), nil
}

// WhoAmI is the whoami tool's answer.
type WhoAmI struct {
	Subject  string   `json:"subject"`
	ClientID string   `json:"client_id"`
	Org      string   `json:"org"`
	Scopes   []string `json:"scopes"`
}

func whoami(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, WhoAmI, error) {
	ti := req.Extra.TokenInfo
	if ti == nil {
		return nil, WhoAmI{}, errors.New("no token")
	}
	out := WhoAmI{Subject: ti.UserID, Scopes: ti.Scopes}
	out.ClientID, _ = ti.Extra["client_id"].(string)
	out.Org, _ = ti.Extra["org"].(string)
	return nil, out, nil
}

// verifier checks Portico access tokens against the issuer's published keys.
type verifier struct {
	cfg  Config
	mu   sync.Mutex
	keys *oidc.RemoteKeySet
}

// accessClaims are the RFC 9068 claims the server reads.
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Expiry   int64    `json:"exp"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Org      string   `json:"org"`
	CNF      any      `json:"cnf"`
}

// audience is a JWT aud: one string or a list.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// keySet finds the JWKS through RFC 8414 metadata once.
func (v *verifier) keySet(ctx context.Context) (*oidc.RemoteKeySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys != nil {
		return v.keys, nil
	}
	u := strings.TrimSuffix(v.cfg.Issuer, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&meta) != nil || meta.Issuer != u || meta.JWKSURI == "" {
		return nil, fmt.Errorf("mcpserver: no usable authorization server metadata at %s", u)
	}
	v.keys = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), v.cfg.HTTPClient), meta.JWKSURI)
	return v.keys, nil
}

// verify is the auth.TokenVerifier: signature by the issuer's keys, typ
// at+jwt, iss, aud (this resource and nothing else counts), exp.
// Sender-constrained tokens (cnf) are refused: this example takes bearer
// tokens only.
func (v *verifier) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	fail := func(why string) (*auth.TokenInfo, error) { return nil, fmt.Errorf("%w: %s", auth.ErrInvalidToken, why) }
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fail("not a JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return fail("bad header")
	}
	var header struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(hb, &header) != nil || !strings.EqualFold(header.Typ, "at+jwt") {
		return fail("not an access token (typ at+jwt)")
	}
	keys, err := v.keySet(ctx)
	if err != nil {
		return nil, err
	}
	payload, err := keys.VerifySignature(ctx, token)
	if err != nil {
		return fail("bad signature")
	}
	var c accessClaims
	if json.Unmarshal(payload, &c) != nil {
		return fail("bad claims")
	}
	switch {
	case c.Issuer != strings.TrimSuffix(v.cfg.Issuer, "/"):
		return fail("wrong issuer")
	case !slices.Contains(c.Audience, v.cfg.Resource):
		return fail("the token is for another audience")
	case c.Expiry <= v.cfg.Now().Unix():
		return fail("expired")
	case c.CNF != nil:
		return fail("sender-constrained tokens are not accepted here")
	}
	return &auth.TokenInfo{Scopes: strings.Fields(c.Scope), Expiration: time.Unix(c.Expiry, 0), UserID: c.Subject,
		Extra: map[string]any{"client_id": c.ClientID, "org": c.Org}}, nil
}

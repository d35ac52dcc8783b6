package authserver

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// opClient presents a cached client to op. op uses it only to validate the
// request shape before calling us back; every security decision (redirect
// URI, scopes, response type, PKCE) is ours as well.
type opClient struct {
	e        *clientEntry
	loginURL func(string) string
	idTTL    time.Duration
}

var _ op.Client = opClient{}

// GetID returns the public client_id.
func (c opClient) GetID() string { return c.e.client.ClientID }

// RedirectURIs returns the registered redirect URIs.
func (c opClient) RedirectURIs() []string { return c.e.client.RedirectURIs }

// PostLogoutRedirectURIs returns the registered post-logout redirect URIs.
func (c opClient) PostLogoutRedirectURIs() []string { return c.e.client.PostLogoutRedirectURIs }

// ApplicationType maps Portico's client type to op's.
func (c opClient) ApplicationType() op.ApplicationType {
	switch c.e.client.Type {
	case store.ClientNative:
		return op.ApplicationTypeNative
	case store.ClientSPA:
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

// AuthMethod returns the registered token endpoint auth method.
func (c opClient) AuthMethod() oidc.AuthMethod {
	return oidc.AuthMethod(c.e.client.TokenEndpointAuthMethod)
}

// ResponseTypes lists every response type so that op lets the request
// through to our Authorize, which refuses all but "code" with the RFC's
// unsupported_response_type (op's own check would say unauthorized_client).
func (c opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode, oidc.ResponseTypeIDToken, oidc.ResponseTypeIDTokenOnly,
		"token", "code id_token", "code token", "code id_token token", "none"}
}

// GrantTypes returns the client's grant types; op refuses the others with
// unauthorized_client before calling us.
func (c opClient) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.e.client.GrantTypes))
	for i, g := range c.e.client.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

// LoginURL is the portal's login page for an authorization request.
func (c opClient) LoginURL(id string) string { return c.loginURL(id) }

// AccessTokenType: access tokens are JWTs.
func (c opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// IDTokenLifetime is the configured ID token lifetime.
func (c opClient) IDTokenLifetime() time.Duration { return c.idTTL }

// DevMode relaxes only op's own redirect-scheme rules, which would refuse a
// SPA's http://127.0.0.1 redirect. Ours (redirect.go) run first, are exact,
// and allow http only for loopback addresses.
func (c opClient) DevMode() bool { return true }

// RestrictAdditionalIdTokenScopes keeps scopes as they are.
func (c opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// RestrictAdditionalAccessTokenScopes keeps scopes as they are.
func (c opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed says yes so that op does not silently drop scopes; our
// Authorize refuses a disallowed scope with invalid_scope instead.
func (c opClient) IsScopeAllowed(string) bool { return true }

// IDTokenUserinfoClaimsAssertion: claims go into the ID token.
func (c opClient) IDTokenUserinfoClaimsAssertion() bool { return true }

// ClockSkew allowed on client assertions.
func (c opClient) ClockSkew() time.Duration { return 30 * time.Second }

// entryOf recovers our client from the op.Client op hands back.
func entryOf(c op.Client) *clientEntry {
	if oc, ok := c.(opClient); ok {
		return oc.e
	}
	return nil
}

func (s *Server) opClient(e *clientEntry) opClient {
	return opClient{e: e, loginURL: s.cfg.LoginURL, idTTL: s.cfg.Lifetimes.IDToken}
}

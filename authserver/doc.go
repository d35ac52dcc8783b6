// Package authserver is Portico's OAuth 2.0 / OpenID Connect authorization
// server: discovery, JWKS, /authorize, the token endpoint (authorization code
// with PKCE, refresh with rotation, client credentials, token exchange),
// introspection, revocation, userinfo, RP-initiated logout and dynamic client
// registration (RFC 7591/7592). It is a plain http.Handler; the portal mounts
// Paths() into echo and supplies the login UI.
//
// Why zitadel/oidc's pkg/op, and how: op is a certified OpenID provider
// library that already parses and validates every protocol request, writes
// RFC-shaped errors, and routes the endpoints, yet leaves storage and the
// security decisions to its user. We use its newer op.Server interface
// (op.RegisterServer) rather than the legacy op.Provider + op.Storage pair:
// with op.Server, op decodes the request and then calls us per endpoint or
// grant, and we build the response. That closes op's gaps without forking it:
//
//   - access tokens: op's own JWT access tokens carry `typ: JWT`; we sign
//     RFC 9068 tokens (`typ: at+jwt`, ES256) ourselves in jwt.go, for every
//     grant, because every grant is ours;
//   - client secrets are HMAC-SHA-256 under a server key (secrets.go), checked
//     in our VerifyClient, which op calls before every client-authenticated
//     handler; private_key_jwt (RFC 7523) is verified there too;
//   - refresh rotation and reuse detection, code single use and replay
//     revocation, revoked jtis: ours, on the store;
//   - discovery is ours, so implicit and hybrid response types are never
//     advertised, and /authorize refuses them with unsupported_response_type;
//   - dynamic client registration (RFC 7591/7592) is ours (dcr.go), on the
//     same Registrar that the portal pages and the CLI use.
//
// Policy reaches the server through the Gate interface it declares (gate.go);
// the organization's partnership window, the client's enabled flag and the
// user's status are checked in one place, standing.go, at every issuance.
//
// Nothing here is package-level mutable state; the clock is injected.
package authserver

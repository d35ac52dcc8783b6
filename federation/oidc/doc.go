// Package oidc connects an organization's OpenID Connect provider (Entra ID,
// Okta, Keycloak, another Portico…) through discovery.
//
// It uses coreos/go-oidc with golang.org/x/oauth2 directly rather than
// goth's generic provider, because goth's openidConnect neither verifies
// the ID token's signature nor sends a nonce. Here every sign-in carries
// state (checked by the portal against its pending sign-in), a nonce and
// PKCE (S256), and the ID token's signature, issuer, audience, expiry and
// nonce are verified before anything in it is believed.
package oidc

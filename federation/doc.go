// Package federation signs people in through an organization's identity
// connections. It has its own folder, apart from handlers and authserver,
// because both the portal's sign-in and the authorization server rely on it,
// and each upstream protocol (OpenID Connect, goth's social providers, SAML,
// the sandbox IdP, Portico's own identity pool) is a sub-package behind the
// same small connector interfaces.
package federation

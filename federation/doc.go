// Package federation signs people in through an organization's identity
// connections. It has its own folder, apart from handlers and authserver,
// because both the portal's sign-in and the authorization server rely on it,
// and each upstream protocol (OpenID Connect, goth's social providers, SAML,
// the sandbox IdP, Portico's own identity pool) is a sub-package behind the
// same small connector interfaces.
//
// The shape is dex's (connector/connector.go), with a context on every I/O
// method: a connection is a stored row whose type names a factory in a
// Registry; the factory's Config decodes the row's JSON and opens a
// Connector; a Cache keeps opened connectors and reopens one when its row's
// version changes. Connectors either redirect the browser and handle the
// callback (CallbackConnector) or check a password themselves
// (PasswordConnector). Provisioner turns what an upstream says into a
// Portico user of the connection's organization, and Service is the one
// place connections are created and changed, for the portal and the CLI
// alike.
package federation

// Package saml connects an organization's SAML 2.0 identity provider
// (ADFS, Entra ID, Okta, Shibboleth…) as a service provider.
//
// It uses github.com/crewjam/saml because it is the maintained pure-Go SAML
// implementation that validates XML signatures (through goxmldsig), the
// response's destination, InResponseTo, audience and validity window, and
// decrypts encrypted assertions. Each connection builds its own
// saml.ServiceProvider from the stored row — never samlsp.Middleware, which
// assumes one SP per process and its own cookies. IdP-initiated sign-in is
// refused: every response must answer a request this portal made, found
// through the pending sign-in named by RelayState. Plain-text assertions
// must carry their own signature; validity is checked again against the
// portal's injected clock.
package saml

// Package adminapi is Portico's admin API: a versioned JSON API under
// /api/v1 for everything the `portico` command line does, for CRMs, billing
// systems and provisioning scripts.
//
// Every route calls the same domain functions as the portal and the CLI
// (partners.Service, authserver.Registrar, webhooks.Service, the store's
// org-scoped getters), so validation, authorization rules and audit events
// are not copied here; this package only parses JSON, checks the caller's
// credential against the route and turns results into JSON and errors into
// RFC 9457 problem details.
//
// The OpenAPI 3.1 document (/api/v1/openapi.json) is generated from the
// route table in routes.go, by reflecting over each route's request and
// response types, rather than the server generated from a document with
// oapi-codegen: the request and response shapes are the domain's own types
// and small structs beside the handlers, and one table that both mounts the
// routes and writes the document cannot disagree with itself. A test checks
// the document against the router anyway, both ways, and another loads it
// with github.com/getkin/kin-openapi (a test-only dependency: a maintained,
// independent OpenAPI implementation) and validates it.
//
// Credentials (auth.go) are API tokens (`Authorization: Bearer ptc_…`) and
// client-credentials access tokens from Portico's own authorization server
// that carry the portico:admin scope and whose client a platform admin has
// granted the API. The API never reads cookies, so it is not a CSRF target
// and sits outside the portal's session and CSRF middleware.
//
// echo stays inside handlers: this package is mounted by handlers.New.
package adminapi

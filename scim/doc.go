// Package scim is Portico's SCIM 2.0 service provider (RFC 7643, RFC 7644):
// one tenant per organization at /scim/v2/{org}/…, so that a partner's
// directory (Okta, Microsoft Entra ID…) creates, changes and deactivates the
// organization's members and groups, and someone who leaves the partner
// loses access the same minute.
//
// It has its own folder because it is a protocol surface of its own, like
// authserver: a plain http.Handler with its own bearer authentication that
// handlers mounts outside the portal's session and CSRF middleware, on top
// of the store's users and first-class groups.
//
// It is a small implementation of its own rather than
// github.com/elimity-com/scim (v0.0.0-20260728105928-2641426a1539 was
// considered): that library validates requests against the schema before
// our code sees them, and real directories send what the schema refuses —
// Entra ID's `"active": "False"` as a string, `Operations` or `operations`,
// `op` as "Replace" or "Add", enterprise-extension paths we do not store —
// and it binds one fixed set of resource handlers per server, where every
// organization needs its own tenant and token. The subset served here is
// what Okta and Entra use: Users and Groups with GET (one or a list with an
// `eq` filter and paging), POST, PUT, PATCH and DELETE, and the three
// discovery endpoints.
package scim

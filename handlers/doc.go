// Package handlers is the portal's web layer: echo routes, middleware
// (security headers, sessions, CSRF, client address, role checks) and one
// handler struct per feature whose fields are its dependencies. It is the only
// package that imports echo, so a later move to echo v5 stays inside it. The
// authorization server is a plain http.Handler mounted here.
//
// Handlers return errors; one HTTPErrorHandler turns them into a safe page in
// the layout (or JSON for API clients) and logs the details.
package handlers

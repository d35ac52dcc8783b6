// Package static holds the portal's stylesheet, scripts and icons, embedded
// into the binary so that a single file is the whole deployment.
//
// Third-party files are vendored, never fetched at run time:
//   - js/htmx.min.js — htmx 2.0.11 from the npm registry (package htmx.org),
//     Zero-Clause BSD licence. Pages work without it; it only enhances.
//
// css/portico.css and js/portico.js are our own.
package static

import "embed"

// FS is the embedded asset tree, served under /static/.
//
//go:embed css js img
var FS embed.FS

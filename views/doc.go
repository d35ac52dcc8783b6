// Package views holds the portal's HTML as templ components: the layout,
// pages and partials, each with a typed props struct. Nothing here does I/O or
// knows about HTTP; handlers build the props and render.
package views

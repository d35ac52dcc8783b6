// Package builtin assembles the registry of every connection type Portico
// ships. It is separate from federation so that federation does not import
// its own sub-packages (they import it), and so main and tests build the
// same registry in one call.
package builtin

import (
	"portico/federation"
	"portico/federation/oidc"
	"portico/federation/pool"
	"portico/federation/saml"
	"portico/federation/sandbox"
	"portico/federation/social"
)

// Registry returns a new registry of the built-in connection types, in the
// order the portal offers them.
func Registry() *federation.Registry {
	types := []federation.Type{oidc.Type(), saml.Type()}
	types = append(types, social.Types()...)
	types = append(types, sandbox.Type(), pool.Type())
	return federation.NewRegistry(types...)
}

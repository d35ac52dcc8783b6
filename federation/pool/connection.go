package pool

import (
	"context"

	"portico/federation"
)

// TypeName is the stored type of identity-pool connections.
const TypeName = "pool"

// Type is the registry entry for the identity pool: an organization adds it
// to say its people have Portico-stored passwords.
func Type() federation.Type {
	return federation.Type{Name: TypeName, Label: "Identity pool (passwords kept by Portico)",
		New: func() federation.Config { return &Config{} }}
}

// Config has nothing to configure: pool users are managed as users.
type Config struct{}

// Set accepts no settings.
func (*Config) Set(map[string]string) federation.FieldErrors { return nil }

// Settings is empty.
func (*Config) Settings() map[string]string { return map[string]string{} }

// Open returns the marker connector.
func (*Config) Open(context.Context, federation.Env, []byte) (federation.Connector, error) {
	return Connector{}, nil
}

// Connector marks the identity pool; the portal's password sign-in, with
// its throttling, lockout and TOTP, does the work.
type Connector struct{}

// UsesIdentityPool implements federation.IdentityPool.
func (Connector) UsesIdentityPool() {}

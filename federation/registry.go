package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Field describes one setting of a connection type, so the portal form and
// the CLI can offer every type without knowing it.
type Field struct {
	Key       string
	Label     string
	Help      string
	Required  bool
	Multiline bool
	// Bool fields are a yes/no checkbox; their value is "yes" or "no".
	Bool bool
}

// Config is a connection type's configuration. It is stored as the row's
// JSON; the type's secret (client secret, SP key, sandbox password) is kept
// apart, sealed.
type Config interface {
	// Set applies settings (by Field.Key) on top of the current values and
	// validates the result, returning per-field messages.
	Set(settings map[string]string) FieldErrors
	// Settings returns the current values by Field.Key, for editing.
	Settings() map[string]string
	// Open builds a connector. secret is the opened secret, nil if none.
	Open(ctx context.Context, env Env, secret []byte) (Connector, error)
}

// SecretPreparer is a Config that makes its own secret (a SAML SP key)
// when none is stored yet, updating its public half in the Config.
type SecretPreparer interface {
	PrepareSecret(current []byte) ([]byte, error)
}

// Type is one kind of connection and how to make its Config.
type Type struct {
	Name  string // stored in the row: "oidc", "saml", "github"…
	Label string // shown to people
	// Fields lists the settings, in form order.
	Fields []Field
	// Secret labels the secret a person enters ("Client secret"); empty
	// when the type has none or makes its own.
	Secret         string
	SecretRequired bool
	// New returns a zero Config to decode the stored JSON into.
	New func() Config
}

// Registry maps type names to their factories. Build it once in main and
// pass it down; nothing is registered process-wide.
type Registry struct {
	types map[string]Type
	order []string
}

// NewRegistry returns a registry of the given types, in display order.
func NewRegistry(types ...Type) *Registry {
	r := &Registry{types: map[string]Type{}}
	for _, t := range types {
		if _, dup := r.types[t.Name]; dup {
			panic("federation: connection type registered twice: " + t.Name)
		}
		r.types[t.Name] = t
		r.order = append(r.order, t.Name)
	}
	return r
}

// Type returns the named type.
func (r *Registry) Type(name string) (Type, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Types returns every type in display order.
func (r *Registry) Types() []Type {
	out := make([]Type, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.types[n])
	}
	return out
}

// Names returns every type name in display order.
func (r *Registry) Names() []string { return append([]string(nil), r.order...) }

// Decode parses a stored configuration of the named type.
func (r *Registry) Decode(typ string, raw []byte) (Config, error) {
	t, ok := r.types[typ]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	cfg := t.New()
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, cfg); err != nil {
			return nil, fmt.Errorf("federation: %s configuration: %w", typ, err)
		}
	}
	return cfg, nil
}

// SplitList reads a setting holding several values separated by commas,
// spaces or new lines.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

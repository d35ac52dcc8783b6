// Package sandbox is the sandbox IdP: static users with claims and groups
// defined on the connection and one shared password, signed in through a
// plain form. Partners use it to try Portico (and their apps' SSO) before
// their real IdP is connected. It needs no library: it is a few lines
// behind federation.PasswordConnector.
package sandbox

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/mail"
	"strings"

	"portico/federation"
)

// TypeName is the stored type of sandbox connections.
const TypeName = "sandbox"

// Type is the registry entry for the sandbox IdP.
func Type() federation.Type {
	return federation.Type{
		Name: TypeName, Label: "Sandbox IdP (for testing)",
		Fields: []federation.Field{{Key: "users", Label: "Users", Required: true, Multiline: true,
			Help: "One per line: email | name | group, group | key=value, key=value"}},
		Secret: "Shared password", SecretRequired: true,
		New: func() federation.Config { return &Config{} },
	}
}

// User is one static sandbox user.
type User struct {
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Groups     []string          `json:"groups,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Config is a sandbox connection's stored configuration.
type Config struct {
	Users []User `json:"users"`
}

// Set parses the users setting.
func (c *Config) Set(s map[string]string) federation.FieldErrors {
	errs := federation.FieldErrors{}
	if v, ok := s["users"]; ok {
		c.Users = nil
		for i, line := range strings.Split(v, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			parts := strings.Split(line, "|")
			u := User{Email: strings.ToLower(strings.TrimSpace(parts[0]))}
			if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
				errs["users"] = fmt.Sprintf("Line %d: %q is not an email address.", i+1, u.Email)
				break
			}
			if len(parts) > 1 {
				u.Name = strings.TrimSpace(parts[1])
			}
			if len(parts) > 2 {
				for _, g := range strings.Split(parts[2], ",") {
					if g = strings.TrimSpace(g); g != "" {
						u.Groups = append(u.Groups, g)
					}
				}
			}
			if len(parts) > 3 {
				for _, kv := range strings.Split(parts[3], ",") {
					k, val, ok := strings.Cut(kv, "=")
					if k = strings.TrimSpace(k); ok && k != "" {
						if u.Attributes == nil {
							u.Attributes = map[string]string{}
						}
						u.Attributes[k] = strings.TrimSpace(val)
					}
				}
			}
			c.Users = append(c.Users, u)
		}
	}
	if len(c.Users) == 0 && errs["users"] == "" {
		errs["users"] = "Add at least one user."
	}
	return errs
}

// Settings returns the users in the form's line format.
func (c *Config) Settings() map[string]string {
	var b strings.Builder
	for _, u := range c.Users {
		fmt.Fprintf(&b, "%s | %s | %s", u.Email, u.Name, strings.Join(u.Groups, ", "))
		if len(u.Attributes) > 0 {
			var kv []string
			for k, v := range u.Attributes {
				kv = append(kv, k+"="+v)
			}
			b.WriteString(" | " + strings.Join(kv, ", "))
		}
		b.WriteString("\n")
	}
	return map[string]string{"users": b.String()}
}

// Open returns the connector.
func (c *Config) Open(_ context.Context, _ federation.Env, secret []byte) (federation.Connector, error) {
	return &Connector{users: c.Users, password: secret}, nil
}

// Connector checks the shared password for a configured user.
type Connector struct {
	users    []User
	password []byte
}

// Login signs a configured user in with the shared password.
func (c *Connector) Login(_ context.Context, email, password string) (federation.Identity, bool, error) {
	// Compare digests so the time taken does not depend on the length.
	want, got := sha256.Sum256(c.password), sha256.Sum256([]byte(password))
	ok := len(c.password) > 0 && subtle.ConstantTimeCompare(want[:], got[:]) == 1
	email = strings.ToLower(strings.TrimSpace(email))
	for _, u := range c.users {
		if u.Email == email && ok {
			// An admin typed these addresses; nothing proved anyone reads
			// them, so the sandbox does not call them verified (ID tokens
			// say email_verified: false, and a sandbox sign-in is never
			// linked by email to an existing account, such as the
			// organization's admin).
			return federation.Identity{Subject: "sandbox:" + u.Email, Email: u.Email, EmailVerified: false,
				Name: u.Name, Groups: u.Groups, Attributes: u.Attributes}, true, nil
		}
	}
	return federation.Identity{}, false, nil
}

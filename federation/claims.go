package federation

import (
	"fmt"
	"strings"
)

// ClaimMap names the upstream claims (or SAML attributes) that carry each
// part of an identity.
type ClaimMap struct {
	Email         string `json:"email,omitempty"`
	EmailVerified string `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	Groups        string `json:"groups,omitempty"`
}

// WithDefaults fills unset names with the OpenID Connect standard ones.
func (m ClaimMap) WithDefaults() ClaimMap {
	if m.Email == "" {
		m.Email = "email"
	}
	if m.EmailVerified == "" {
		m.EmailVerified = "email_verified"
	}
	if m.Name == "" {
		m.Name = "name"
	}
	if m.Groups == "" {
		m.Groups = "groups"
	}
	return m
}

// FromClaims reads an identity out of decoded JSON claims. A groups claim
// may be a list or a single string.
func FromClaims(sub string, claims map[string]any, m ClaimMap) Identity {
	m = m.WithDefaults()
	id := Identity{Subject: sub}
	id.Email, _ = claims[m.Email].(string)
	id.Name, _ = claims[m.Name].(string)
	switch v := claims[m.EmailVerified].(type) {
	case bool:
		id.EmailVerified = v
	case string: // some IdPs send "true"
		id.EmailVerified = strings.EqualFold(v, "true")
	}
	id.Groups = StringList(claims[m.Groups])
	return id
}

// StringList reads a claim that should be a list of strings.
func StringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			switch x := x.(type) {
			case string:
				out = append(out, x)
			case float64, bool:
				out = append(out, fmt.Sprint(x))
			}
		}
		return out
	}
	return nil
}

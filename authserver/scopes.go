package authserver

import (
	"slices"

	"portico/store"
)

// Built-in OpenID Connect scopes: always known, never in the registry.
const (
	scopeOpenID        = "openid"
	scopeProfile       = "profile"
	scopeEmail         = "email"
	scopeOfflineAccess = "offline_access"
	scopeGroups        = "groups"
)

// BuiltinScopes are the scopes every user-facing client may ask for without
// registering them.
var builtinScopes = [...]string{scopeOpenID, scopeProfile, scopeEmail, scopeOfflineAccess, scopeGroups}

// IsBuiltinScope reports whether name is one of the OpenID Connect scopes
// Portico knows without a registry entry.
func IsBuiltinScope(name string) bool { return slices.Contains(builtinScopes[:], name) }

// Grant types as stored on clients.
const (
	grantCode              = "authorization_code"
	grantRefresh           = "refresh_token"
	grantClientCredentials = "client_credentials"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// planScopes returns the union of the plan's feature scopes, or nil when
// the organization has no plan (then nothing is bounded by it).
func planScopes(p *store.Plan) map[string]bool {
	if p == nil {
		return nil
	}
	m := map[string]bool{}
	for _, f := range p.Features {
		for _, sc := range f.Scopes {
			m[sc] = true
		}
	}
	return m
}

// boundScopes is what a plan lets an organization's clients hold: its
// features' scopes, and the scopes of every API the organization (on that
// plan) may use, since an API's allow list is its own plan bound. Nil
// without a plan: nothing is bounded by it.
func boundScopes(p *store.Plan, orgID string, apis []store.API) map[string]bool {
	m := planScopes(p)
	if m == nil {
		return nil
	}
	for i := range apis {
		if apis[i].UsableBy(orgID, p.ID) {
			for _, sc := range apis[i].Scopes {
				m[sc.Name] = true
			}
		}
	}
	return m
}

// scopeOwners maps each API scope to its API.
func scopeOwners(apis []store.API) map[string]*store.API {
	m := map[string]*store.API{}
	for i := range apis {
		for _, sc := range apis[i].Scopes {
			m[sc.Name] = &apis[i]
		}
	}
	return m
}

// allowsScope reports whether the client may be issued scope now: built-in
// scopes for clients that sign people in (offline_access only with the
// refresh grant), API scopes when the client was granted them and the
// organization's current plan still includes them.
func (e *clientEntry) allowsScope(sc string) bool {
	c := &e.client
	if IsBuiltinScope(sc) {
		if c.Type == store.ClientService {
			return false
		}
		return sc != scopeOfflineAccess || slices.Contains(c.GrantTypes, grantRefresh)
	}
	if !slices.Contains(c.Scopes, sc) {
		return false
	}
	if e.planScopes != nil && !e.planScopes[sc] {
		return false
	}
	return true
}

// apiScopes returns the client's API scopes it may currently be issued:
// what client credentials grant when no scope is asked for.
func (e *clientEntry) apiScopes() []string {
	var out []string
	for _, sc := range e.client.Scopes {
		if !IsBuiltinScope(sc) && e.allowsScope(sc) {
			out = append(out, sc)
		}
	}
	return out
}

// checkScopes returns the first scope the client may not have, or "".
func (e *clientEntry) checkScopes(scopes []string) string {
	for _, sc := range scopes {
		if !e.allowsScope(sc) {
			return sc
		}
	}
	return ""
}

// dedupe returns scopes without repeats, in first-seen order.
func dedupe(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if sc != "" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

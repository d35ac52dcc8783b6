package authserver

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"portico/store"
)

// APIs as resources (RFC 8707). A client names the API it wants a token for
// with the resource parameter at /authorize and /token; the token's aud is
// then that API's identifier, its scopes are the API's, and its lifetime the
// API's. Without resource nothing changes: aud is the issuer and only
// portal-wide scopes are issued.

// apiSet is every registered API, indexed, as of a data version.
type apiSet struct {
	ver          int64
	byIdentifier map[string]*store.API
	scopeAPI     map[string]*store.API // scope name -> the API it belongs to
}

// apiCache reloads the API registry when the database changed; readers on
// the hot path take no lock.
type apiCache struct {
	mu  sync.Mutex // held while reloading
	set atomic.Pointer[apiSet]
}

func (s *Server) apis(ctx context.Context) (*apiSet, error) {
	ver, err := s.fresh.current(ctx)
	if err != nil {
		return nil, err
	}
	if set := s.apiCache.set.Load(); set != nil && set.ver == ver {
		return set, nil
	}
	s.apiCache.mu.Lock()
	defer s.apiCache.mu.Unlock()
	if set := s.apiCache.set.Load(); set != nil && set.ver == ver {
		return set, nil
	}
	list, err := s.st.APIs(ctx)
	if err != nil {
		return nil, err
	}
	set := &apiSet{ver: ver, byIdentifier: map[string]*store.API{}, scopeAPI: map[string]*store.API{}}
	for i := range list {
		a := &list[i]
		set.byIdentifier[a.Identifier] = a
		for _, sc := range a.Scopes {
			set.scopeAPI[sc.Name] = a
		}
	}
	s.apiCache.set.Store(set)
	return set, nil
}

// API returns the registered API whose identifier is exactly identifier,
// or store.ErrNotFound. Other parts of the server (DPoP enforcement) read
// RequireSenderConstrained from it.
func (s *Server) API(ctx context.Context, identifier string) (*store.API, error) {
	set, err := s.apis(ctx)
	if err != nil {
		return nil, err
	}
	if a := set.byIdentifier[identifier]; a != nil {
		return a, nil
	}
	return nil, store.ErrNotFound
}

// errInvalidTarget is RFC 8707 §2's invalid_target.
func errInvalidTarget(description string) error {
	return oidc.ErrInvalidTarget().WithDescription("%s", description)
}

// target resolves the resource parameter(s) of a request for client e: nil
// without any, the API otherwise. Portico issues a token for one API at a
// time, so several resources are refused (RFC 8707 §2 lets the server).
func (s *Server) target(ctx context.Context, e *clientEntry, resources []string) (*store.API, error) {
	switch len(resources) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, errInvalidTarget("only one resource per request is supported")
	}
	r := resources[0]
	if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.Fragment != "" || u.Host == "" {
		return nil, errInvalidTarget("resource must be an absolute URI without a fragment")
	}
	set, err := s.apis(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	api := set.byIdentifier[r]
	if api == nil {
		return nil, errInvalidTarget("resource " + quote(r) + " is not a registered API")
	}
	if !e.mayUseAPI(api) {
		return nil, errInvalidTarget("this client may not get tokens for resource " + quote(r))
	}
	return api, nil
}

// mayUseAPI: the client's own organization and its plan decide, whoever
// signs in through it.
//
// A metadata-document client has no organization until a user signs in:
// the check waits for the token endpoint, where the user's counts.
func (e *clientEntry) mayUseAPI(api *store.API) bool {
	if e.metadata != nil && e.client.OrgID == "" {
		return true
	}
	return api.UsableBy(e.client.OrgID, e.ownerPlanID)
}

// checkTargetScopes returns an error naming the first scope that does not
// fit the target: with an API, every non-OpenID scope must be one of its
// scopes; without one, no scope may belong to an API (its token would carry
// the issuer as aud and reach an API it was not meant for).
func (s *Server) checkTargetScopes(ctx context.Context, api *store.API, scopes []string) error {
	set, err := s.apis(ctx)
	if err != nil {
		return serverError(err)
	}
	for _, sc := range scopes {
		if IsBuiltinScope(sc) {
			continue
		}
		owner := set.scopeAPI[sc]
		switch {
		case api == nil && owner != nil:
			return invalidScope("scope " + quote(sc) + " belongs to an API: send its identifier as resource")
		case api != nil && (owner == nil || owner.ID != api.ID):
			return invalidScope("scope " + quote(sc) + " is not a scope of resource " + quote(api.Identifier))
		}
	}
	return nil
}

// scopesFor keeps the scopes that fit the target: the API's, or the
// portal-wide ones without an API (what is granted when none are asked for).
func (s *Server) scopesFor(ctx context.Context, api *store.API, scopes []string) ([]string, error) {
	set, err := s.apis(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	var out []string
	for _, sc := range scopes {
		owner := set.scopeAPI[sc]
		if (api == nil && owner == nil) || (api != nil && owner != nil && owner.ID == api.ID) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// aimAt points access-token claims at an API: its identifier as aud and its
// token lifetime, when it has one.
func (s *Server) aimAt(c *accessClaims, api *store.API) {
	if api == nil {
		return
	}
	c.Audience = []string{api.Identifier}
	if api.TokenTTL > 0 {
		c.Expiry = c.IssuedAt + int64(api.TokenTTL.Seconds())
	}
}

// identifierOf is the stored form of a target: "" for the issuer.
func identifierOf(api *store.API) string {
	if api == nil {
		return ""
	}
	return api.Identifier
}

// grantedTarget resolves the resource of an existing grant (a code or a
// refresh family): the request may repeat it but not name another, and the
// API must still exist and still be open to the client.
func (s *Server) grantedTarget(ctx context.Context, e *clientEntry, granted string, requested []string, what string) (*store.API, error) {
	for _, r := range requested {
		if r != granted {
			return nil, errInvalidTarget("resource " + quote(r) + " was not part of " + what)
		}
	}
	if granted == "" {
		return nil, nil
	}
	return s.target(ctx, e, []string{granted})
}

// exchangeAPI finds an API among a token exchange's audience and resource
// values (RFC 8693 §2.1 allows both). A token is for one API only, so an
// API must be the only target named; values that are not APIs are left to
// exchangeAudience.
func (s *Server) exchangeAPI(ctx context.Context, e *clientEntry, targets []string) (*store.API, error) {
	set, err := s.apis(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	targets = dedupe(targets)
	for _, t := range targets {
		if set.byIdentifier[t] == nil {
			continue
		}
		if len(targets) > 1 {
			return nil, errInvalidTarget("a token for an API cannot name other audiences or resources")
		}
		return s.target(ctx, e, targets)
	}
	return nil, nil
}

// ScopeGroup is a set of scopes under what they give access to: the
// sign-in itself (OpenID Connect), the portal, or one API.
type ScopeGroup struct {
	API    *store.API // nil for OpenID Connect and portal-wide scopes
	Title  string
	Scopes []string
}

// ScopeGroups groups scopes as consent and app pages show them: OpenID
// Connect first, then portal-wide scopes, then each API's, in the order
// the scopes came.
func (s *Server) ScopeGroups(ctx context.Context, scopes []string) ([]ScopeGroup, error) {
	set, err := s.apis(ctx)
	if err != nil {
		return nil, err
	}
	oidcGroup := ScopeGroup{Title: "Sign-in (OpenID Connect)"}
	portal := ScopeGroup{Title: "Portal"}
	var apis []ScopeGroup
	for _, sc := range scopes {
		switch a := set.scopeAPI[sc]; {
		case IsBuiltinScope(sc):
			oidcGroup.Scopes = append(oidcGroup.Scopes, sc)
		case a == nil:
			portal.Scopes = append(portal.Scopes, sc)
		default:
			i := slicesIndexAPI(apis, a)
			if i < 0 {
				apis = append(apis, ScopeGroup{API: a, Title: a.Name})
				i = len(apis) - 1
			}
			apis[i].Scopes = append(apis[i].Scopes, sc)
		}
	}
	var out []ScopeGroup
	for _, g := range append([]ScopeGroup{oidcGroup, portal}, apis...) {
		if len(g.Scopes) > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

func slicesIndexAPI(groups []ScopeGroup, a *store.API) int {
	for i, g := range groups {
		if g.API != nil && g.API.ID == a.ID {
			return i
		}
	}
	return -1
}

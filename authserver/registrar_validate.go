package authserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"portico/store"
)

// typeRules is what a client type decides: the grants it may use and gets
// by default, the authentication methods it may use (the first is the
// default), and whether it needs redirect URIs.
type typeRules struct {
	grants, defaultGrants, methods []string
	redirects                      bool
}

var clientTypeRules = map[store.ClientType]typeRules{
	store.ClientWeb: {grants: []string{grantCode, grantRefresh, grantTokenExchange},
		defaultGrants: []string{grantCode, grantRefresh}, methods: []string{authBasic, authPost, authPrivateJWT}, redirects: true},
	store.ClientSPA: {grants: []string{grantCode, grantRefresh},
		defaultGrants: []string{grantCode, grantRefresh}, methods: []string{authNone}, redirects: true},
	store.ClientNative: {grants: []string{grantCode, grantRefresh},
		defaultGrants: []string{grantCode, grantRefresh}, methods: []string{authNone}, redirects: true},
	// A service may be a JWT-bearer client without credentials of its own
	// (none), bound to a trusted issuer whose assertions are its proof.
	store.ClientService: {grants: []string{grantClientCredentials, grantTokenExchange, grantJWTBearer},
		defaultGrants: []string{grantClientCredentials}, methods: []string{authBasic, authPost, authPrivateJWT, authNone}},
}

var idTokenAlgs = []string{algRS256, algES256, algPS256}

// validate turns input into a client (without IDs, secrets or org), or
// returns a *ValidationError naming every bad field. cur is the client being
// updated, nil on create.
func (r *Registrar) validate(ctx context.Context, org store.Organization, plan *store.Plan, in RegisterInput, cur *store.Client) (store.Client, error) {
	var fe fieldErrors
	c := store.Client{Name: strings.TrimSpace(in.Name), Type: in.Type, LaunchURL: in.LaunchURL, LogoURL: in.LogoURL,
		JWKS: strings.TrimSpace(in.JWKS), JWKSURI: in.JWKSURI, RequireDPoP: in.DPoPBound}
	if cur != nil {
		if in.Type == "" {
			c.Type = cur.Type
		} else if in.Type != cur.Type {
			fe.add("type", "cannot be changed; register a new application instead")
		}
	}
	switch n := len([]rune(c.Name)); {
	case n == 0:
		fe.add("name", "is required")
	case n > 100:
		fe.add("name", "must be at most 100 characters")
	}
	rules, ok := clientTypeRules[c.Type]
	if !ok {
		fe.add("type", "must be web, spa, native or service")
		return c, fe.err()
	}

	// Grant types and the authentication method follow from the type.
	c.GrantTypes = in.GrantTypes
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = rules.defaultGrants
	}
	for i, g := range c.GrantTypes {
		if !slices.Contains(rules.grants, g) {
			fe.add(fmt.Sprintf("grant_types[%d]", i), "%s apps may use only %s", c.Type, strings.Join(rules.grants, ", "))
		}
	}
	if hasDuplicates(c.GrantTypes) {
		fe.add("grant_types", "must not repeat a grant type")
	}
	c.TokenEndpointAuthMethod = in.TokenEndpointAuthMethod
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = rules.methods[0]
		if c.Type.Confidential() && (c.JWKS != "" || c.JWKSURI != "") {
			c.TokenEndpointAuthMethod = authPrivateJWT
		}
	}
	if !slices.Contains(rules.methods, c.TokenEndpointAuthMethod) {
		fe.add("token_endpoint_auth_method", "%s apps may use only %s", c.Type, strings.Join(rules.methods, ", "))
	}
	if c.Type == store.ClientService && c.TokenEndpointAuthMethod == authNone {
		if len(c.GrantTypes) != 1 || c.GrantTypes[0] != grantJWTBearer {
			fe.add("token_endpoint_auth_method", "a service without credentials (none) may use only the %s grant", grantJWTBearer)
		}
		if cur == nil && in.TrustedIssuerID == "" {
			fe.add("trusted_issuer", "a service without credentials (none) must be bound to a trusted issuer")
		}
	}
	if c.TokenEndpointAuthMethod == authPrivateJWT {
		switch {
		case (c.JWKS == "") == (c.JWKSURI == ""):
			fe.add("jwks", "private_key_jwt needs exactly one of jwks and jwks_uri")
		case c.JWKS != "":
			if _, err := parseJWKS(c.JWKS); err != nil {
				fe.add("jwks", "%v", err)
			}
		case !strings.HasPrefix(c.JWKSURI, "https://") || validWebURL(c.JWKSURI) != "":
			fe.add("jwks_uri", "must be an https URL")
		}
	} else if c.JWKS != "" || c.JWKSURI != "" {
		fe.add("jwks", "keys are used only with token_endpoint_auth_method private_key_jwt")
	}

	// Redirect URIs.
	native := c.Type == store.ClientNative
	c.RedirectURIs = in.RedirectURIs
	if rules.redirects && len(c.RedirectURIs) == 0 {
		fe.add("redirect_uris", "at least one redirect URI is required")
	}
	if !rules.redirects && len(c.RedirectURIs) > 0 {
		fe.add("redirect_uris", "service apps have no redirect URIs")
	}
	if len(c.RedirectURIs) > 20 {
		fe.add("redirect_uris", "at most 20 redirect URIs")
	}
	for i, u := range c.RedirectURIs {
		if msg := validRedirectURI(u, native); msg != "" {
			fe.add(fmt.Sprintf("redirect_uris[%d]", i), "%s", msg)
		}
	}
	if hasDuplicates(c.RedirectURIs) {
		fe.add("redirect_uris", "must not repeat a URI")
	}
	c.PostLogoutRedirectURIs = in.PostLogoutRedirectURIs
	for i, u := range c.PostLogoutRedirectURIs {
		if msg := validRedirectURI(u, native); msg != "" {
			fe.add(fmt.Sprintf("post_logout_redirect_uris[%d]", i), "%s", msg)
		}
	}
	if msg := validWebURL(c.LaunchURL); msg != "" {
		fe.add("launch_url", "%s", msg)
	}
	if msg := validWebURL(c.LogoURL); msg != "" {
		fe.add("logo_url", "%s", msg)
	}

	c.IDTokenSignedAlg = in.IDTokenSignedAlg
	if c.IDTokenSignedAlg == "" {
		c.IDTokenSignedAlg = algRS256
	}
	if !slices.Contains(idTokenAlgs, c.IDTokenSignedAlg) {
		fe.add("id_token_signed_response_alg", "must be one of %s", strings.Join(idTokenAlgs, ", "))
	}

	// Scopes: registered, and within the plan when there is one.
	registry, err := r.st.Scopes(ctx)
	if err != nil {
		return c, err
	}
	apis, err := r.st.APIs(ctx)
	if err != nil {
		return c, err
	}
	ps := boundScopes(plan, org.ID, apis)
	owner := scopeOwners(apis)
	c.Scopes = dedupe(in.Scopes)
	for i, sc := range in.Scopes {
		field := fmt.Sprintf("scopes[%d]", i)
		switch {
		case !validScopeToken(sc):
			fe.add(field, "is not a valid scope name")
		case IsBuiltinScope(sc):
			if c.Type == store.ClientService {
				fe.add(field, "%q is for apps that sign people in", sc)
			}
		case !slices.ContainsFunc(registry, func(s store.Scope) bool { return s.Name == sc }):
			fe.add(field, "%q is not a registered scope", sc)
		case owner[sc] != nil && !owner[sc].UsableBy(org.ID, org.PlanID):
			fe.add(field, "%q belongs to an API this organization may not use", sc)
		case ps != nil && !ps[sc]:
			fe.add(field, "%q is not included in the organization's plan", sc)
		}
	}
	if types := planAppTypes(plan); len(types) > 0 && !slices.Contains(types, string(c.Type)) {
		fe.add("type", "the organization's plan does not include %s apps", c.Type)
	}
	// Empty lists, not null, in JSON (CLI output, audit log), as when read back.
	c.RedirectURIs, c.PostLogoutRedirectURIs = nonNilStrings(c.RedirectURIs), nonNilStrings(c.PostLogoutRedirectURIs)
	c.Scopes, c.GrantTypes = nonNilStrings(c.Scopes), nonNilStrings(c.GrantTypes)
	return c, fe.err()
}

// planAppTypes is the union of the plan's feature app types; empty means
// the plan does not restrict them.
func planAppTypes(p *store.Plan) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, f := range p.Features {
		out = append(out, f.AppTypes...)
	}
	return dedupe(out)
}

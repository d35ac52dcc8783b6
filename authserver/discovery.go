package authserver

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// discovery is the OpenID Provider metadata (and RFC 8414's). It is ours
// rather than op's so that it advertises exactly what is accepted: the code
// flow only, S256 only, and the registration endpoint.
type discovery struct {
	oidc.DiscoveryConfiguration
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// ClientIDMetadataDocumentSupported: an https URL may serve as client_id
	// (draft-ietf-oauth-client-id-metadata-document); present only when on.
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`
	// RFC 9126 §5.
	PAREndpoint string `json:"pushed_authorization_request_endpoint"`
	RequirePAR  bool   `json:"require_pushed_authorization_requests,omitempty"`
	// RFC 9449 §5.1.
	DPoPAlgs []string `json:"dpop_signing_alg_values_supported"`
}

func (s *Server) discoveryDocument(ctx context.Context) discovery {
	e := s.endpoint
	scopes := append([]string(nil), builtinScopes[:]...)
	if list, err := s.st.Scopes(ctx); err == nil {
		set, _ := s.apis(ctx)
		for _, sc := range list {
			// An organization's own APIs are nobody else's business.
			if sc.APIID != "" && (set == nil || set.scopeAPI[sc.Name] == nil || set.scopeAPI[sc.Name].OrgID != "") {
				continue
			}
			scopes = append(scopes, sc.Name)
		}
	}
	authMethods := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT}
	assertionAlgs := []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	dpopAlgNames := make([]string, len(dpopAlgs))
	for i, a := range dpopAlgs {
		dpopAlgNames[i] = string(a)
	}
	return discovery{IssParameterSupported: true, PAREndpoint: s.url(e.par), RequirePAR: s.cfg.RequirePAR,
		DPoPAlgs: dpopAlgNames, ClientIDMetadataDocumentSupported: s.cfg.ClientMetadata.Enabled,
		DiscoveryConfiguration: oidc.DiscoveryConfiguration{
			Issuer:                 s.cfg.Issuer,
			AuthorizationEndpoint:  s.url(e.authorize),
			TokenEndpoint:          s.url(e.token),
			IntrospectionEndpoint:  s.url(e.introspect),
			UserinfoEndpoint:       s.url(e.userinfo),
			RevocationEndpoint:     s.url(e.revoke),
			EndSessionEndpoint:     s.url(e.endSession),
			JwksURI:                s.url(e.jwks),
			RegistrationEndpoint:   s.url(e.register),
			ScopesSupported:        scopes,
			ResponseTypesSupported: []string{string(oidc.ResponseTypeCode)},
			ResponseModesSupported: []string{string(oidc.ResponseModeQuery)},
			GrantTypesSupported: []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken,
				oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange, oidc.GrantTypeBearer},
			SubjectTypesSupported:                              []string{"public"},
			IDTokenSigningAlgValuesSupported:                   []string{algRS256, algES256, algPS256},
			TokenEndpointAuthMethodsSupported:                  append(authMethods, oidc.AuthMethodNone),
			TokenEndpointAuthSigningAlgValuesSupported:         assertionAlgs,
			IntrospectionEndpointAuthMethodsSupported:          authMethods,
			IntrospectionEndpointAuthSigningAlgValuesSupported: assertionAlgs,
			RevocationEndpointAuthMethodsSupported:             append(authMethods, oidc.AuthMethodNone),
			RevocationEndpointAuthSigningAlgValuesSupported:    assertionAlgs,
			ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp",
				"at_hash", "email", "email_verified", "name", "groups", "org", "acr"},
			ACRValuesSupported:            ACRValuesSupported(),
			CodeChallengeMethodsSupported: []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
			RequestParameterSupported:     false,
			RequestURIParameterSupported:  false,
		}}
}

func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	json.NewEncoder(w).Encode(s.discoveryDocument(r.Context()))
}

// serveKeys publishes the JWKS: the active keys and the retired ones whose
// tokens may still be alive.
func (s *Server) serveKeys(ctx context.Context) (*op.Response, error) {
	set, err := s.keys.current(ctx, s.fresh)
	if err != nil {
		return nil, serverError(err)
	}
	return &op.Response{Header: http.Header{"Cache-Control": {"public, max-age=60"}}, Data: set.jwks}, nil
}

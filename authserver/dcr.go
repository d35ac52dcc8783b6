package authserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"portico/store"
)

// clientMetadata is RFC 7591 §2 client metadata as Portico understands it.
type clientMetadata struct {
	RedirectURIs            []string        `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris,omitempty"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string        `json:"grant_types,omitempty"`
	ResponseTypes           []string        `json:"response_types,omitempty"`
	ClientName              string          `json:"client_name,omitempty"`
	LogoURI                 string          `json:"logo_uri,omitempty"`
	InitiateLoginURI        string          `json:"initiate_login_uri,omitempty"`
	Scope                   string          `json:"scope,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	IDTokenSignedAlg        string          `json:"id_token_signed_response_alg,omitempty"`
	ApplicationType         string          `json:"application_type,omitempty"`
	// DPoPBound is RFC 9449 §5.2: the client always uses DPoP.
	DPoPBound bool `json:"dpop_bound_access_tokens,omitempty"`
}

// registrationResponse is RFC 7591 §3.2.1 / RFC 7592 §3.
type registrationResponse struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string `json:"registration_client_uri"`
	clientMetadata
}

// input maps metadata to a RegisterInput: the type follows from the grant
// types, the authentication method and application_type.
func (m clientMetadata) input() (RegisterInput, error) {
	var fe fieldErrors
	for i, rt := range m.ResponseTypes {
		if rt != "code" {
			fe.add("response_types", "only \"code\" is supported (entry %d)", i)
		}
	}
	in := RegisterInput{Name: m.ClientName, RedirectURIs: m.RedirectURIs, PostLogoutRedirectURIs: m.PostLogoutRedirectURIs,
		Scopes: strings.Fields(m.Scope), GrantTypes: m.GrantTypes, LaunchURL: m.InitiateLoginURI, LogoURL: m.LogoURI,
		TokenEndpointAuthMethod: m.TokenEndpointAuthMethod, JWKSURI: m.JWKSURI, IDTokenSignedAlg: m.IDTokenSignedAlg,
		DPoPBound: m.DPoPBound}
	if len(m.JWKS) > 0 && string(m.JWKS) != "null" {
		in.JWKS = string(m.JWKS)
	}
	if in.Name == "" {
		in.Name = "Dynamically registered client"
	}
	switch {
	case len(m.GrantTypes) > 0 && !slices.Contains(m.GrantTypes, grantCode) && slices.Contains(m.GrantTypes, grantClientCredentials):
		in.Type = store.ClientService
	case m.TokenEndpointAuthMethod == authNone && m.ApplicationType == "native":
		in.Type = store.ClientNative
	case m.TokenEndpointAuthMethod == authNone:
		in.Type = store.ClientSPA
	default:
		in.Type = store.ClientWeb
	}
	if m.ApplicationType != "" && m.ApplicationType != "web" && m.ApplicationType != "native" {
		fe.add("application_type", "must be web or native")
	}
	return in, fe.err()
}

func metadataOf(c store.Client) clientMetadata {
	m := clientMetadata{RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod, GrantTypes: c.GrantTypes, ClientName: c.Name,
		LogoURI: c.LogoURL, InitiateLoginURI: c.LaunchURL, Scope: strings.Join(c.Scopes, " "),
		JWKSURI: c.JWKSURI, IDTokenSignedAlg: c.IDTokenSignedAlg, ApplicationType: "web", DPoPBound: c.RequireDPoP}
	if c.JWKS != "" {
		m.JWKS = json.RawMessage(c.JWKS)
	}
	if slices.Contains(c.GrantTypes, grantCode) {
		m.ResponseTypes = []string{"code"}
	}
	if c.Type == store.ClientNative {
		m.ApplicationType = "native"
	}
	return m
}

// serveRegistration answers RFC 7591 registration (POST at the endpoint)
// and RFC 7592 management (GET, PUT, DELETE at endpoint/{client_id}).
func (s *Server) serveRegistration(w http.ResponseWriter, r *http.Request) {
	token, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "a bearer token is required")
		return
	}
	if r.URL.Path == s.endpoint.register {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
			return
		}
		s.dynamicRegister(w, r, token)
		return
	}
	s.manageRegistration(w, r, strings.TrimPrefix(r.URL.Path, s.endpoint.register+"/"), token)
}

func (s *Server) dynamicRegister(w http.ResponseWriter, r *http.Request, token string) {
	ctx := r.Context()
	rt, err := s.st.RegistrationTokenByHash(ctx, s.hash.sum(purposeRegistration, token))
	if err != nil || !rt.UsableAt(s.now()) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the initial access token is invalid, expired or used up")
		return
	}
	var m clientMetadata
	if !decodeMetadata(w, r, &m) {
		return
	}
	in, err := m.input()
	if err != nil {
		writeRegistrationError(w, err)
		return
	}
	c, secret, regToken, err := s.reg.register(ctx, rt.OrgID, Actor{Label: "dcr:" + rt.ID}, in, true,
		func(tx *store.Store) error { return tx.CountRegistrationTokenUse(ctx, rt.OrgID, rt.ID) })
	if err != nil {
		writeRegistrationError(w, err)
		return
	}
	resp := registrationResponse{ClientID: c.ClientID, ClientSecret: secret, ClientIDIssuedAt: c.CreatedAt.Unix(),
		RegistrationAccessToken: regToken, RegistrationClientURI: s.url(s.endpoint.register + "/" + c.ClientID),
		clientMetadata: metadataOf(c)}
	if secret != "" {
		zero := int64(0)
		resp.ClientSecretExpiresAt = &zero
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (s *Server) manageRegistration(w http.ResponseWriter, r *http.Request, clientID, token string) {
	ctx := r.Context()
	c, err := s.st.LookupClient(ctx, clientID)
	if err != nil || !c.Dynamic || c.RegistrationTokenHash == "" || !s.hash.equal(purposeRegAccess, token, c.RegistrationTokenHash) {
		// RFC 7592 §2: an unknown client and a wrong token look the same.
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the registration access token is invalid")
		return
	}
	actor := Actor{Label: "dcr-management:" + c.ClientID}
	respond := func(c store.Client) {
		writeJSON(w, http.StatusOK, registrationResponse{ClientID: c.ClientID, ClientIDIssuedAt: c.CreatedAt.Unix(),
			RegistrationClientURI: s.url(s.endpoint.register + "/" + c.ClientID), clientMetadata: metadataOf(c)})
	}
	switch r.Method {
	case http.MethodGet:
		respond(c)
	case http.MethodPut:
		var m struct {
			clientMetadata
			ClientID string `json:"client_id"`
		}
		if !decodeMetadata(w, r, &m) {
			return
		}
		if m.ClientID != "" && m.ClientID != c.ClientID {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "client_id does not match")
			return
		}
		in, err := m.clientMetadata.input()
		if err == nil {
			in.Type = "" // the type is kept
			c, err = s.reg.Update(ctx, c.OrgID, c.ClientID, actor, in)
		}
		if err != nil {
			writeRegistrationError(w, err)
			return
		}
		respond(c)
	case http.MethodDelete:
		if err := s.reg.Delete(ctx, c.OrgID, c.ClientID, actor); err != nil {
			writeRegistrationError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, PUT, DELETE")
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "use GET, PUT or DELETE")
	}
}

func decodeMetadata(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "the body must be application/json")
		return false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(v); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "the body is not valid JSON client metadata")
		return false
	}
	return true
}

// writeRegistrationError maps Registrar errors to RFC 7591 §3.2.2.
func writeRegistrationError(w http.ResponseWriter, err error) {
	var ve *ValidationError
	if reason, ok := store.Unavailable(err); ok {
		w.Header().Set("Retry-After", "2")
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", reason+"; retry shortly")
		return
	}
	switch {
	case errors.As(err, &ve):
		code := "invalid_client_metadata"
		for _, f := range ve.Fields {
			if strings.HasPrefix(f.Field, "redirect_uris") {
				code = "invalid_redirect_uri"
			}
		}
		writeOAuthError(w, http.StatusBadRequest, code, sanitize(ve.Error(), 500))
	case errors.Is(err, ErrRegistrationDenied):
		writeOAuthError(w, http.StatusForbidden, "access_denied", sanitize(err.Error(), 300))
	case errors.Is(err, store.ErrConflict):
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the initial access token is used up")
	case errors.Is(err, store.ErrNotFound):
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "the registration access token is invalid")
	default:
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "internal error")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// bearer extracts an RFC 6750 bearer token from the Authorization header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 8 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

package authserver

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Protected resource metadata (RFC 9728) that Portico publishes on behalf of
// the APIs that delegate it (store.API.PublishMetadata). An API points its
// 401 responses' resource_metadata parameter at ResourceMetadataURL, and a
// client (an MCP client, for one) finds the authorization server from there.

// resourceMetadataBase is where the documents live, below the issuer's path
// like RFC 8414's metadata: .../.well-known/oauth-protected-resource{prefix}/apis/{id}.
func (s *Server) resourceMetadataBase() string {
	return "/.well-known/oauth-protected-resource" + s.prefix + "/apis/"
}

// ResourceMetadataURL is the absolute URL of an API's metadata document
// (meaningful only when the API publishes it).
func (s *Server) ResourceMetadataURL(apiID string) string {
	return s.url(s.resourceMetadataBase() + apiID)
}

// resourceMetadata is RFC 9728 §2's document.
type resourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name,omitempty"`
	DPoPBoundRequired      bool     `json:"dpop_bound_access_tokens_required,omitempty"`
}

func (s *Server) serveResourceMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, s.resourceMetadataBase())
	set, err := s.apis(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "protected resource metadata", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	for _, api := range set.byIdentifier {
		if api.ID != id || !api.PublishMetadata {
			continue
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "public, max-age=300")
		json.NewEncoder(w).Encode(resourceMetadata{
			Resource: api.Identifier, AuthorizationServers: []string{s.cfg.Issuer},
			ScopesSupported: nonNilStrings(api.ScopeNames()), BearerMethodsSupported: []string{"header"},
			ResourceName: api.Name, DPoPBoundRequired: api.RequireSenderConstrained,
		})
		return
	}
	http.NotFound(w, r)
}

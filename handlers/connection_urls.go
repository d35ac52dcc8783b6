package handlers

import (
	"strings"

	"portico/federation/pool"
	"portico/federation/saml"
	"portico/federation/sandbox"
	"portico/store"
)

// UpstreamURLs are what an administrator registers at the upstream for a
// connection: a redirect URI for OAuth-style IdPs, or the SP metadata and
// ACS URLs for SAML. Types that never leave the portal have none.
type UpstreamURLs struct {
	RedirectURI string `json:"redirect_uri,omitempty"`
	MetadataURL string `json:"saml_metadata_url,omitempty"`
	ACSURL      string `json:"saml_acs_url,omitempty"`
}

// ConnectionUpstreamURLs returns the URLs for x under the portal's base
// URL. It lives beside the routes it names so the pages and the CLI cannot
// print different ones.
func ConnectionUpstreamURLs(base string, x store.Connection) UpstreamURLs {
	base = strings.TrimRight(base, "/")
	switch x.Type {
	case saml.TypeName:
		return UpstreamURLs{MetadataURL: base + samlMetadataPath + x.ID, ACSURL: base + SAMLACSPath}
	case sandbox.TypeName, pool.TypeName:
		return UpstreamURLs{}
	}
	return UpstreamURLs{RedirectURI: base + CallbackPath}
}

package authserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"portico/netguard"
	"portico/store"
)

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
// as the MCP authorization spec of 2025-11-25 uses them): a client that
// never registered names itself by an https URL, and the authorization
// server fetches that URL to learn its name, redirect URIs and how it
// authenticates. Such a client belongs to no organization: the user who
// signs in decides which organization's standing, plan and APIs count, and
// that organization may refuse such clients altogether. Nothing in the
// document is verified by the platform, and the portal says so.

// Bounds of the document cache (HTTP caching rules, clamped).
const (
	metadataMinTTL     = time.Minute
	metadataMaxTTL     = 24 * time.Hour
	metadataDefaultTTL = 10 * time.Minute
	metadataMaxEntries = 1000
	metadataMaxBytes   = 10 << 10
)

// ClientMetadataConfig configures metadata-document clients.
type ClientMetadataConfig struct {
	// Enabled is PORTICO_CLIENT_ID_METADATA=allow.
	Enabled bool
	// HTTPClient fetches documents; nil means a client on netguard's dialer
	// (UpstreamAllow applies), https only, no redirects, 5 s.
	HTTPClient *http.Client
	// RootCAs replaces the system roots for the default client. Tests only:
	// they serve documents from httptest.NewTLSServer on 127.0.0.1, which
	// UpstreamAllow must also admit.
	RootCAs *x509.CertPool
}

func newMetadataClient(allow []netip.Prefix, roots *x509.CertPool) *http.Client {
	t := netguard.Guard{Allow: allow}.Transport()
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("a client metadata document must not redirect")
		}}
}

// ClientMetadata is what the login and consent pages show about a
// metadata-document client: all of it asserted by the client itself.
type ClientMetadata struct {
	ClientID string // the document's URL
	Name     string
	LogoURI  string
	Domain   string // the host serving the document: the only thing Portico checked
	URI      string // client_uri, if any
}

// metadataDoc is the part of the document Portico reads (RFC 7591 names).
type metadataDoc struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	JWKSURI                 string   `json:"jwks_uri"`
	JWKS                    any      `json:"jwks"`
	ClientSecret            string   `json:"client_secret"`
	Scope                   string   `json:"scope"`
}

type metadataEntry struct {
	client  store.Client
	meta    ClientMetadata
	expires time.Time
}

// metadataCache holds fetched documents until their HTTP lifetime ends.
type metadataCache struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	m      map[string]metadataEntry
}

// isMetadataClientID: a client_id that is an https URL with a path. Only
// such ids are fetched; registered client ids never look like this.
func isMetadataClientID(id string) bool {
	return strings.HasPrefix(id, "https://") && metadataURLProblem(id) == ""
}

// metadataURLProblem checks the draft's rules for the URL itself.
func metadataURLProblem(raw string) string {
	if len(raw) > 2000 {
		return "is too long"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		return "must be an https URL"
	case u.Path == "" || u.Path == "/":
		return "must have a path"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.User != nil:
		return "must not contain user information"
	case slices.ContainsFunc(strings.Split(u.Path, "/"), func(seg string) bool { return seg == "." || seg == ".." }):
		return "must not contain dot segments"
	}
	return ""
}

// errMetadataRefused: metadata-document clients are turned off.
var errMetadataRefused = errors.New("authserver: client metadata documents are not accepted")

// metadataClient returns the client a metadata document describes,
// fetching it when the cached copy is missing or stale.
func (s *Server) metadataClient(ctx context.Context, id string) (*clientEntry, error) {
	if !s.cfg.ClientMetadata.Enabled {
		return nil, fmt.Errorf("%w: %w", errMetadataRefused, store.ErrNotFound)
	}
	c := s.metadata
	now := c.now()
	c.mu.Lock()
	en, ok := c.m[id]
	c.mu.Unlock()
	if !ok || !now.Before(en.expires) {
		var ttl time.Duration
		var err error
		if en, ttl, err = c.fetch(ctx, id); err != nil {
			s.log.WarnContext(ctx, "client metadata document refused", "client_id", id, "err", err)
			return nil, fmt.Errorf("%w: %w", err, store.ErrNotFound)
		}
		if ttl > 0 {
			en.expires = now.Add(ttl)
			c.put(id, en, now)
		}
	}
	set, err := s.apis(ctx)
	if err != nil {
		return nil, err
	}
	cl := en.client
	// The client may ask for any API's scopes (bounded by its document's
	// scope when it has one); the resource, the user's organization and
	// its plan narrow that at every grant.
	var docScopes []string
	if cl.Scopes != nil {
		docScopes = cl.Scopes
	}
	cl.Scopes = nil
	for name := range set.scopeAPI {
		if docScopes == nil || slices.Contains(docScopes, name) {
			cl.Scopes = append(cl.Scopes, name)
		}
	}
	slices.Sort(cl.Scopes)
	return &clientEntry{client: cl, metadata: &en.meta}, nil
}

func (c *metadataCache) put(id string, en metadataEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= metadataMaxEntries {
		for k, v := range c.m { // drop the expired, then whatever comes first
			if !now.Before(v.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < metadataMaxEntries {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[id] = en
}

// fetch downloads and validates a document; ttl 0 means do not cache.
func (c *metadataCache) fetch(ctx context.Context, id string) (metadataEntry, time.Duration, error) {
	var en metadataEntry
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return en, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return en, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return en, 0, fmt.Errorf("the document answered %d", resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return en, 0, fmt.Errorf("the document's content type is %q, not JSON", mt)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, metadataMaxBytes+1))
	if err != nil {
		return en, 0, err
	}
	if len(body) > metadataMaxBytes {
		return en, 0, errors.New("the document is larger than 10 KiB")
	}
	var doc metadataDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return en, 0, fmt.Errorf("the document is not a JSON object: %w", err)
	}
	cl, meta, err := clientFromDocument(id, doc)
	if err != nil {
		return en, 0, err
	}
	return metadataEntry{client: cl, meta: meta}, metadataLifetime(resp.Header), nil
}

// metadataLifetime follows Cache-Control (RFC 9111) within sane bounds:
// no-store and no-cache are not cached, max-age is clamped to
// [metadataMinTTL, metadataMaxTTL], and a document without either is kept
// metadataDefaultTTL.
func metadataLifetime(h http.Header) time.Duration {
	ttl, noStore := cacheControl(h, metadataDefaultTTL)
	if noStore || ttl < 0 {
		return 0
	}
	return min(max(ttl, metadataMinTTL), metadataMaxTTL)
}

// cacheControl reads a response's Cache-Control (RFC 9111): its max-age
// (def when absent, -1 when malformed) and whether it forbids reuse
// (no-store or no-cache). Every cache of fetched documents reads it here
// and applies its own bounds.
func cacheControl(h http.Header, def time.Duration) (maxAge time.Duration, noStore bool) {
	maxAge = def
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(strings.ToLower(d)), "=")
			switch name {
			case "no-store", "no-cache":
				noStore = true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
				if err != nil || n < 0 {
					maxAge = -1
				} else {
					maxAge = time.Duration(min(n, int64(365*24*time.Hour/time.Second))) * time.Second
				}
			}
		}
	}
	return maxAge, noStore
}

// clientFromDocument validates a document and turns it into the client it
// describes: public (none) or private_key_jwt with a jwks_uri; the
// authorization code grant (and refresh) only; exact redirect URIs.
func clientFromDocument(id string, d metadataDoc) (store.Client, ClientMetadata, error) {
	bad := func(format string, args ...any) (store.Client, ClientMetadata, error) {
		return store.Client{}, ClientMetadata{}, fmt.Errorf("client metadata document: "+format, args...)
	}
	if d.ClientID != id {
		return bad("client_id %q is not the document's URL", d.ClientID)
	}
	if d.ClientSecret != "" {
		return bad("a document must not carry a client_secret")
	}
	if len(d.RedirectURIs) == 0 || len(d.RedirectURIs) > 20 {
		return bad("redirect_uris must list 1 to 20 URIs")
	}
	for _, r := range d.RedirectURIs {
		if msg := validRedirectURI(r, true); msg != "" {
			return bad("redirect_uri %q %s", r, msg)
		}
	}
	grants := d.GrantTypes
	if len(grants) == 0 {
		grants = []string{grantCode}
	}
	for _, g := range grants {
		if g != grantCode && g != grantRefresh {
			return bad("grant type %q is not available to metadata-document clients", g)
		}
	}
	if !slices.Contains(grants, grantCode) {
		return bad("grant_types must include authorization_code")
	}
	for _, rt := range d.ResponseTypes {
		if rt != "code" {
			return bad("response type %q is not supported", rt)
		}
	}
	c := store.Client{ClientID: id, Type: store.ClientSPA, RedirectURIs: d.RedirectURIs, GrantTypes: grants,
		Enabled: true, TokenEndpointAuthMethod: authNone, IDTokenSignedAlg: algRS256}
	switch d.TokenEndpointAuthMethod {
	case "", authNone:
	case authPrivateJWT:
		if d.JWKSURI == "" || d.JWKS != nil {
			return bad("private_key_jwt needs a jwks_uri (and no inline jwks)")
		}
		if u, err := url.Parse(d.JWKSURI); err != nil || u.Scheme != "https" || u.Host == "" {
			return bad("jwks_uri must be an https URL")
		}
		c.Type, c.TokenEndpointAuthMethod, c.JWKSURI = store.ClientWeb, authPrivateJWT, d.JWKSURI
	default:
		return bad("token_endpoint_auth_method %q is not allowed (none or private_key_jwt)", d.TokenEndpointAuthMethod)
	}
	if d.Scope != "" {
		c.Scopes = strings.Fields(d.Scope)
	}
	u, _ := url.Parse(id)
	meta := ClientMetadata{ClientID: id, Domain: u.Hostname(), Name: strings.TrimSpace(d.ClientName)}
	if len(meta.Name) > 100 {
		meta.Name = meta.Name[:100]
	}
	if meta.Name == "" {
		meta.Name = meta.Domain
	}
	if d.LogoURI != "" && strings.HasPrefix(d.LogoURI, "https://") && validWebURL(d.LogoURI) == "" {
		meta.LogoURI = d.LogoURI
	}
	if d.ClientURI != "" && strings.HasPrefix(d.ClientURI, "https://") && validWebURL(d.ClientURI) == "" {
		meta.URI = d.ClientURI
	}
	c.Name, c.LogoURL = meta.Name, meta.LogoURI
	return c, meta, nil
}

// clientOrDocument is client, plus metadata-document clients: for the
// endpoints such a client uses (/authorize, /token, the login page,
// userinfo). Other lookups (token-exchange audiences, the throttle) never
// fetch anything.
func (s *Server) clientOrDocument(ctx context.Context, id string) (*clientEntry, error) {
	if isMetadataClientID(id) {
		return s.metadataClient(ctx, id)
	}
	return s.client(ctx, id)
}

// metadataForUser binds a metadata-document client to the organization of
// the user who signed in: its standing, plan and APIs are the ones that
// count, and it must not have refused such clients.
func (s *Server) metadataForUser(ctx context.Context, e *clientEntry, u store.User) (*clientEntry, error) {
	allowed, err := s.st.OrgAllowsClientMetadata(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	if !allowed {
		return nil, errOrgRefusesMetadata
	}
	org, plan, err := orgAndPlan(ctx, s.st, u.OrgID)
	if err != nil {
		return nil, err
	}
	var apis []store.API
	if plan != nil {
		if apis, err = s.st.APIs(ctx); err != nil {
			return nil, err
		}
	}
	bound := *e
	bound.org, bound.plan, bound.ownerPlanID = org, plan, org.PlanID
	bound.client.OrgID = org.ID
	bound.planScopes = boundScopes(plan, org.ID, apis)
	return &bound, nil
}

// errOrgRefusesMetadata: the user's organization does not accept
// metadata-document clients.
var errOrgRefusesMetadata = errors.New("your organization does not allow applications that are not registered with the platform")

// ClientMetadataOf returns what a pending authorization request's client
// says about itself when it is a metadata-document client (ok false
// otherwise), for the login and consent pages to show as unverified.
func (s *Server) ClientMetadataOf(ctx context.Context, authRequestID string) (ClientMetadata, bool, error) {
	_, e, err := s.pendingRequest(ctx, authRequestID)
	if err != nil {
		return ClientMetadata{}, false, err
	}
	if e.metadata == nil {
		return ClientMetadata{}, false, nil
	}
	return *e.metadata, true, nil
}

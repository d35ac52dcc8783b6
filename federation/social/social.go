package social

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/markbates/goth"
	"github.com/markbates/goth/providers/auth0"
	"github.com/markbates/goth/providers/azureadv2"
	"github.com/markbates/goth/providers/github"
	"github.com/markbates/goth/providers/gitlab"
	"github.com/markbates/goth/providers/google"
	"github.com/markbates/goth/providers/okta"
	"golang.org/x/oauth2"

	"portico/federation"
)

// Types returns the registry entries of every supported provider.
func Types() []federation.Type {
	common := []federation.Field{
		{Key: "client_id", Label: "Client ID", Required: true},
		{Key: "scopes", Label: "Extra scopes", Help: "Space-separated; the provider's defaults are always requested."},
	}
	mk := func(name, label string, extra ...federation.Field) federation.Type {
		return federation.Type{Name: name, Label: label, Fields: append(append([]federation.Field{}, common...), extra...),
			Secret: "Client secret", SecretRequired: true,
			New: func() federation.Config { return &Config{provider: name} }}
	}
	return []federation.Type{
		mk("github", "GitHub",
			federation.Field{Key: "base_url", Label: "GitHub Enterprise URL", Help: "Leave empty for github.com."},
			federation.Field{Key: "api_url", Label: "GitHub Enterprise API URL", Help: "Default: BASE/api/v3."}),
		mk("google", "Google",
			federation.Field{Key: "hosted_domain", Label: "Google Workspace domain", Help: "Only accounts of this domain may sign in."}),
		mk("microsoft", "Microsoft Entra ID",
			federation.Field{Key: "tenant", Label: "Tenant", Required: true, Help: "Tenant ID or domain; not common."}),
		mk("gitlab", "GitLab",
			federation.Field{Key: "base_url", Label: "Self-hosted GitLab URL", Help: "Leave empty for gitlab.com."}),
		mk("okta", "Okta",
			federation.Field{Key: "base_url", Label: "Okta org URL", Required: true},
			federation.Field{Key: "claim_groups", Label: "Groups claim", Help: "Default: groups."}),
		mk("auth0", "Auth0",
			federation.Field{Key: "base_url", Label: "Auth0 domain", Required: true},
			federation.Field{Key: "claim_groups", Label: "Groups claim"}),
	}
}

// Config is a social connection's stored configuration.
type Config struct {
	provider     string
	ClientID     string   `json:"client_id"`
	Scopes       []string `json:"scopes,omitempty"`
	BaseURL      string   `json:"base_url,omitempty"`
	APIURL       string   `json:"api_url,omitempty"`
	Tenant       string   `json:"tenant,omitempty"`
	HostedDomain string   `json:"hosted_domain,omitempty"`
	ClaimGroups  string   `json:"claim_groups,omitempty"`
}

// Set applies and validates settings.
func (c *Config) Set(s map[string]string) federation.FieldErrors {
	errs := federation.FieldErrors{}
	str := map[string]*string{"client_id": &c.ClientID, "base_url": &c.BaseURL, "api_url": &c.APIURL,
		"tenant": &c.Tenant, "hosted_domain": &c.HostedDomain, "claim_groups": &c.ClaimGroups}
	for k, dst := range str {
		if v, ok := s[k]; ok {
			*dst = strings.TrimSpace(v)
		}
	}
	c.BaseURL, c.APIURL = strings.TrimRight(c.BaseURL, "/"), strings.TrimRight(c.APIURL, "/")
	if v, ok := s["scopes"]; ok {
		c.Scopes = federation.SplitList(v)
	}
	if c.ClientID == "" {
		errs["client_id"] = "Enter the client ID registered at the provider."
	}
	for key, v := range map[string]string{"base_url": c.BaseURL, "api_url": c.APIURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs[key] = "Enter an absolute https URL."
		}
	}
	switch c.provider {
	case "microsoft":
		if c.Tenant == "" || c.Tenant == "common" || c.Tenant == "consumers" {
			errs["tenant"] = "Enter your organization's tenant ID or domain, so only its accounts sign in."
		}
	case "okta", "auth0":
		if c.BaseURL == "" {
			errs["base_url"] = "Enter the provider URL."
		}
	}
	return errs
}

// Settings returns the values for editing.
func (c *Config) Settings() map[string]string {
	return map[string]string{"client_id": c.ClientID, "scopes": strings.Join(c.Scopes, " "), "base_url": c.BaseURL,
		"api_url": c.APIURL, "tenant": c.Tenant, "hosted_domain": c.HostedDomain, "claim_groups": c.ClaimGroups}
}

// Open builds this connection's own goth provider.
func (c *Config) Open(_ context.Context, env federation.Env, secret []byte) (federation.Connector, error) {
	p, verified, err := c.buildProvider(env.CallbackURL, string(secret))
	if err != nil {
		return nil, err
	}
	// Every provider's requests (token, user, emails) go through the
	// guarded client: GitHub Enterprise, GitLab, Okta and Auth0 URLs are
	// typed by an org admin.
	hc := env.Client()
	var exchange *oauth2.Config
	switch p := p.(type) {
	case *github.Provider:
		p.HTTPClient = hc
	case *google.Provider:
		p.HTTPClient = hc
	case *azureadv2.Provider:
		p.HTTPClient = hc
	case *gitlab.Provider:
		p.HTTPClient = hc
	case *okta.Provider:
		p.HTTPClient = hc
	case *auth0.Provider:
		p.HTTPClient = hc
		// goth's auth0 session redeems the code with oauth2.NoContext,
		// that is with http.DefaultClient; the connector makes that one
		// request itself.
		exchange = &oauth2.Config{ClientID: p.ClientKey, ClientSecret: p.Secret, RedirectURL: p.CallbackURL,
			Endpoint: oauth2.Endpoint{TokenURL: "https://" + p.Domain + "/oauth/token"}}
	default:
		return nil, fmt.Errorf("social: provider %T has no guarded HTTP client", p)
	}
	return &Connector{p: p, cfg: *c, verifiedEmail: verified, client: hc, exchange: exchange}, nil
}

// buildProvider builds the goth provider, and says how to tell a verified
// email: some providers guarantee it, some report it, some cannot.
func (c *Config) buildProvider(callback, secret string) (goth.Provider, func(goth.User) bool, error) {
	always := func(goth.User) bool { return true }
	reported := func(key string) func(goth.User) bool {
		return func(u goth.User) bool { v, _ := u.RawData[key].(bool); return v }
	}
	never := func(goth.User) bool { return false }
	switch c.provider {
	case "github":
		// GitHub only publishes, and goth only picks, verified addresses.
		scopes := append([]string{"read:user", "user:email"}, c.Scopes...)
		if c.BaseURL == "" {
			p := github.New(c.ClientID, secret, callback, scopes...)
			p.SetName("github")
			return p, always, nil
		}
		api := c.APIURL
		if api == "" {
			api = c.BaseURL + "/api/v3"
		}
		p := github.NewCustomisedURL(c.ClientID, secret, callback, c.BaseURL+"/login/oauth/authorize",
			c.BaseURL+"/login/oauth/access_token", api+"/user", api+"/user/emails", scopes...)
		return p, always, nil
	case "google":
		p := google.New(c.ClientID, secret, callback, append([]string{"openid", "email", "profile"}, c.Scopes...)...)
		if c.HostedDomain != "" {
			p.SetHostedDomain(c.HostedDomain)
		}
		return p, reported("verified_email"), nil
	case "microsoft":
		// Entra does not verify the email claim: linking by it is refused.
		p := azureadv2.New(c.ClientID, secret, callback, azureadv2.ProviderOptions{Tenant: azureadv2.TenantType(c.Tenant)})
		return p, never, nil
	case "gitlab":
		scopes := append([]string{"read_user"}, c.Scopes...)
		if c.BaseURL == "" {
			return gitlab.New(c.ClientID, secret, callback, scopes...), never, nil
		}
		return gitlab.NewCustomisedURL(c.ClientID, secret, callback, c.BaseURL+"/oauth/authorize",
			c.BaseURL+"/oauth/token", c.BaseURL+"/api/v4/user", scopes...), never, nil
	case "okta":
		return okta.New(c.ClientID, secret, c.BaseURL, callback, append([]string{"openid", "email", "profile", "groups"}, c.Scopes...)...),
			reported("email_verified"), nil
	case "auth0":
		domain := strings.TrimPrefix(strings.TrimPrefix(c.BaseURL, "https://"), "http://")
		return auth0.New(c.ClientID, secret, callback, domain, append([]string{"openid", "email", "profile"}, c.Scopes...)...),
			reported("email_verified"), nil
	}
	return nil, nil, fmt.Errorf("social: unknown provider %q", c.provider)
}

// authorize redeems the callback's code into sess.
func (c *Connector) authorize(ctx context.Context, sess goth.Session, q url.Values) error {
	a0, ok := sess.(*auth0.Session)
	if c.exchange == nil || !ok {
		_, err := sess.Authorize(c.p, q)
		return err
	}
	tok, err := c.exchange.Exchange(context.WithValue(ctx, oauth2.HTTPClient, c.client), q.Get("code"))
	if err != nil {
		return err
	}
	if !tok.Valid() {
		return errors.New("invalid token received from provider")
	}
	a0.AccessToken, a0.RefreshToken, a0.ExpiresAt = tok.AccessToken, tok.RefreshToken, tok.Expiry
	return nil
}

// Connector is one connection's goth provider.
type Connector struct {
	p             goth.Provider
	cfg           Config
	verifiedEmail func(goth.User) bool
	client        *http.Client
	// exchange, when set, redeems the code instead of the goth session
	// (whose own exchange would not use client).
	exchange *oauth2.Config
}

// LoginURL starts goth's flow with Portico's state; the marshalled goth
// session is the connData.
func (c *Connector) LoginURL(_ context.Context, state string) (string, []byte, error) {
	sess, err := c.p.BeginAuth(state)
	if err != nil {
		return "", nil, err
	}
	u, err := sess.GetAuthURL()
	if err != nil {
		return "", nil, err
	}
	return u, []byte(sess.Marshal()), nil
}

// HandleCallback exchanges the code and fetches the profile. goth's calls
// take no context; the connection's HTTP client bounds them with its timeout.
func (c *Connector) HandleCallback(ctx context.Context, connData []byte, r *http.Request) (federation.Identity, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return federation.Identity{}, federation.Upstream(fmt.Errorf("social: provider returned error %q", e))
	}
	if q.Get("code") == "" {
		return federation.Identity{}, federation.Upstream(errors.New("social: callback without code"))
	}
	sess, err := c.p.UnmarshalSession(string(connData))
	if err != nil {
		return federation.Identity{}, err
	}
	if err := c.authorize(ctx, sess, q); err != nil {
		return federation.Identity{}, federation.Upstream(fmt.Errorf("social: code exchange: %w", err))
	}
	u, err := c.p.FetchUser(sess)
	if err != nil {
		return federation.Identity{}, federation.Upstream(fmt.Errorf("social: profile: %w", err))
	}
	if u.UserID == "" {
		return federation.Identity{}, federation.Upstream(errors.New("social: profile without user id"))
	}
	name := u.Name
	if name == "" {
		name = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	if name == "" {
		name = u.NickName
	}
	id := federation.Identity{Subject: u.UserID, Email: u.Email, EmailVerified: u.Email != "" && c.verifiedEmail(u), Name: name}
	claim := c.cfg.ClaimGroups
	if claim == "" && c.cfg.provider == "okta" {
		claim = "groups"
	}
	if claim != "" {
		id.Groups = federation.StringList(u.RawData[claim])
	}
	return id, nil
}

package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"portico/federation"
)

// TypeName is the stored type of generic OIDC connections.
const TypeName = "oidc"

// Type is the registry entry for generic OpenID Connect.
func Type() federation.Type {
	return federation.Type{
		Name: TypeName, Label: "OpenID Connect",
		Fields: []federation.Field{
			{Key: "issuer", Label: "Issuer URL", Required: true, Help: "Discovery is read from ISSUER/.well-known/openid-configuration."},
			{Key: "client_id", Label: "Client ID", Required: true},
			{Key: "scopes", Label: "Scopes", Help: "Space-separated; openid is always requested. Default: openid email profile."},
			{Key: "claim_email", Label: "Email claim", Help: "Default: email."},
			{Key: "claim_name", Label: "Name claim", Help: "Default: name."},
			{Key: "claim_groups", Label: "Groups claim", Help: "Default: groups."},
			{Key: "trust_email", Label: "Treat emails as verified", Bool: true, Help: "Only for IdPs that never send email_verified but verify every address."},
		},
		Secret: "Client secret", SecretRequired: true,
		New: func() federation.Config { return &Config{} },
	}
}

// Config is a generic OIDC connection's stored configuration.
type Config struct {
	Issuer     string              `json:"issuer"`
	ClientID   string              `json:"client_id"`
	Scopes     []string            `json:"scopes,omitempty"`
	Claims     federation.ClaimMap `json:"claims"`
	TrustEmail bool                `json:"trust_email,omitempty"`
}

// Set applies and validates settings.
func (c *Config) Set(s map[string]string) federation.FieldErrors {
	errs := federation.FieldErrors{}
	if v, ok := s["issuer"]; ok {
		c.Issuer = strings.TrimRight(strings.TrimSpace(v), "/")
	}
	if v, ok := s["client_id"]; ok {
		c.ClientID = strings.TrimSpace(v)
	}
	if v, ok := s["scopes"]; ok {
		c.Scopes = federation.SplitList(v)
	}
	for key, dst := range map[string]*string{"claim_email": &c.Claims.Email, "claim_name": &c.Claims.Name, "claim_groups": &c.Claims.Groups} {
		if v, ok := s[key]; ok {
			*dst = strings.TrimSpace(v)
		}
	}
	if v, ok := s["trust_email"]; ok {
		c.TrustEmail = isYes(v)
	}
	if u, err := url.Parse(c.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && !isLoopback(u.Hostname())) {
		errs["issuer"] = "Enter the issuer's https URL."
	}
	if c.ClientID == "" {
		errs["client_id"] = "Enter the client ID registered at the provider."
	}
	return errs
}

// Settings returns the values for editing.
func (c *Config) Settings() map[string]string {
	trust := "no"
	if c.TrustEmail {
		trust = "yes"
	}
	return map[string]string{"issuer": c.Issuer, "client_id": c.ClientID, "scopes": strings.Join(c.Scopes, " "),
		"claim_email": c.Claims.Email, "claim_name": c.Claims.Name, "claim_groups": c.Claims.Groups, "trust_email": trust}
}

// Open runs discovery and builds the connector.
func (c *Config) Open(ctx context.Context, env federation.Env, secret []byte) (federation.Connector, error) {
	hc := env.Client()
	// The provider keeps this context for later JWKS refreshes, so it must
	// outlive the request that happened to open the connection.
	octx := gooidc.ClientContext(context.WithoutCancel(ctx), hc)
	p, err := gooidc.NewProvider(octx, c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery at %s: %w", c.Issuer, err)
	}
	scopes := []string{gooidc.ScopeOpenID}
	if len(c.Scopes) == 0 {
		scopes = append(scopes, "email", "profile")
	}
	for _, s := range c.Scopes {
		if s != gooidc.ScopeOpenID {
			scopes = append(scopes, s)
		}
	}
	verifierCfg := &gooidc.Config{ClientID: c.ClientID}
	if env.Now != nil {
		verifierCfg.Now = env.Now
	}
	return &Connector{
		cfg:      *c,
		client:   hc,
		verifier: p.Verifier(verifierCfg),
		provider: p,
		oauth: oauth2.Config{ClientID: c.ClientID, ClientSecret: string(secret), Endpoint: p.Endpoint(),
			RedirectURL: env.CallbackURL, Scopes: scopes},
	}, nil
}

// Connector is an opened OIDC connection.
type Connector struct {
	cfg      Config
	client   *http.Client
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	oauth    oauth2.Config
}

// connData is what the sign-in keeps between LoginURL and the callback.
type connData struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// LoginURL builds the authorization request with state, nonce and PKCE.
func (c *Connector) LoginURL(ctx context.Context, state string) (string, []byte, error) {
	d := connData{Nonce: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier()}
	raw, _ := json.Marshal(d)
	u := c.oauth.AuthCodeURL(state, gooidc.Nonce(d.Nonce), oauth2.S256ChallengeOption(d.Verifier))
	return u, raw, nil
}

// HandleCallback exchanges the code and verifies the ID token.
func (c *Connector) HandleCallback(ctx context.Context, raw []byte, r *http.Request) (federation.Identity, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return federation.Identity{}, federation.Upstream(fmt.Errorf("oidc: provider returned error %q: %s", e, q.Get("error_description")))
	}
	var d connData
	if err := json.Unmarshal(raw, &d); err != nil || d.Nonce == "" {
		return federation.Identity{}, errors.New("oidc: pending sign-in has no nonce")
	}
	code := q.Get("code")
	if code == "" {
		return federation.Identity{}, federation.Upstream(errors.New("oidc: callback without code"))
	}
	ctx = gooidc.ClientContext(ctx, c.client)
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(d.Verifier))
	if err != nil {
		return federation.Identity{}, federation.Upstream(fmt.Errorf("oidc: code exchange: %w", err))
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok || rawID == "" {
		return federation.Identity{}, federation.Upstream(errors.New("oidc: token response without id_token"))
	}
	idt, err := c.verifier.Verify(ctx, rawID)
	if err != nil {
		return federation.Identity{}, federation.Upstream(fmt.Errorf("oidc: id token: %w", err))
	}
	if idt.Nonce != d.Nonce {
		return federation.Identity{}, federation.Upstream(errors.New("oidc: id token nonce does not match"))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return federation.Identity{}, federation.Upstream(fmt.Errorf("oidc: id token claims: %w", err))
	}
	m := c.cfg.Claims.WithDefaults()
	if _, has := claims[m.Email]; !has {
		// Some providers put profile claims only in userinfo.
		if ui, err := c.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
			var extra map[string]any
			if ui.Claims(&extra) == nil {
				for k, v := range extra {
					if _, ok := claims[k]; !ok {
						claims[k] = v
					}
				}
			}
		}
	}
	id := federation.FromClaims(idt.Subject, claims, c.cfg.Claims)
	id.AMR, id.ACR = upstreamAuth(claims)
	if c.cfg.TrustEmail {
		id.EmailVerified = true
	}
	return id, nil
}

// Test checks that discovery worked and the token endpoint is known.
func (c *Connector) Test(ctx context.Context) error {
	if c.oauth.Endpoint.TokenURL == "" {
		return errors.New("oidc: discovery gave no token endpoint")
	}
	return nil
}

func isYes(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v == "yes" || v == "true" || v == "on" || v == "1"
}

func isLoopback(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasSuffix(h, ".localhost")
}

// upstreamAuth reads the ID token's amr and acr, keeping only short
// printable values (they are recorded and shown, never trusted to raise
// Portico's own assurance level).
func upstreamAuth(claims map[string]any) (amr []string, acr string) {
	ok := func(s string) bool {
		if s == "" || len(s) > 100 {
			return false
		}
		for _, r := range s {
			if r <= ' ' || r > '~' {
				return false
			}
		}
		return true
	}
	if list, isList := claims["amr"].([]any); isList {
		for _, v := range list {
			if s, isStr := v.(string); isStr && ok(s) && len(amr) < 10 {
				amr = append(amr, s)
			}
		}
	}
	if s, isStr := claims["acr"].(string); isStr && ok(s) {
		acr = s
	}
	return amr, acr
}

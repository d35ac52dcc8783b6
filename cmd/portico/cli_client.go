package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"portico/authserver"
	"portico/store"
)

func runClient(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "client", args, map[string]func(context.Context, *cli, []string) error{
		"create":        runClientCreate,
		"list":          runClientList,
		"show":          runClientShow,
		"rotate-secret": runClientRotateSecret,
		"revoke-secret": runClientRevokeSecret,
		"enable":        func(ctx context.Context, c *cli, a []string) error { return runClientSetEnabled(ctx, c, a, true) },
		"disable":       func(ctx context.Context, c *cli, a []string) error { return runClientSetEnabled(ctx, c, a, false) },
		"delete":        runClientDelete,
		"share":         runClientShare,
		"update":        runClientUpdate,
	})
}

// clientJSON is a client as the CLI prints it; the secret appears only
// right after it was generated.
type clientJSON struct {
	store.Client
	Org          string `json:"org"`
	ClientSecret string `json:"client_secret,omitempty"`
}

func (j clientJSON) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client_id=%s name=%q type=%s org=%s enabled=%v first_party=%v", j.ClientID, j.Name, j.Type, j.Org, j.Enabled, j.FirstParty)
	if j.ExchangeAnySubject {
		b.WriteString(" exchange_any_subject=true")
	}
	if j.RequirePAR {
		b.WriteString(" require_par=true")
	}
	if j.RequireDPoP {
		b.WriteString(" require_dpop=true")
	}
	if j.FAPI2 {
		b.WriteString(" fapi2=true")
	}
	if len(j.Scopes) > 0 {
		fmt.Fprintf(&b, " scopes=%q", strings.Join(j.Scopes, " "))
	}
	for _, s := range j.Secrets {
		fmt.Fprintf(&b, "\n  secret %s %s", s.ID, s.Hint)
		if !s.ExpiresAt.IsZero() {
			fmt.Fprintf(&b, " expires %s", s.ExpiresAt.Format(time.RFC3339))
		}
	}
	if j.ClientSecret != "" {
		fmt.Fprintf(&b, "\nclient_secret=%s\n(shown once: store it now)", j.ClientSecret)
	}
	return b.String()
}

func (e *oauthEnv) clientJSON(ctx context.Context, cl store.Client, secret string) clientJSON {
	return clientJSON{Client: cl, Org: orgSlugOf(ctx, e.st, cl.OrgID), ClientSecret: secret}
}

func runClientCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client create")
	f := c.oauthFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	var in authserver.RegisterInput
	var typ, scope string
	var redirects, logouts, grants multiFlag
	fs.StringVar(&in.Name, "name", "", "application name (required)")
	fs.StringVar(&typ, "type", "", "web, spa, native or service (required)")
	fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable)")
	fs.Var(&logouts, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&grants, "grant-type", "grant type (repeatable; default: the type's)")
	fs.StringVar(&scope, "scope", "", `space-separated scopes, e.g. "openid orders:read"`)
	fs.StringVar(&in.LaunchURL, "launch-url", "", "URL the dashboard launches")
	fs.StringVar(&in.LogoURL, "logo-url", "", "logo URL")
	fs.StringVar(&in.TokenEndpointAuthMethod, "auth-method", "", "client_secret_basic, client_secret_post, private_key_jwt or none")
	fs.StringVar(&in.JWKSURI, "jwks-uri", "", "JWKS URL for private_key_jwt")
	fs.StringVar(&in.JWKS, "jwks", "", "JWKS document for private_key_jwt")
	fs.StringVar(&in.IDTokenSignedAlg, "id-token-alg", "", "RS256 (default), ES256 or PS256")
	fs.StringVar(&in.TrustedIssuerID, "trusted-issuer", "", "bind the client to this trusted issuer id (JWT bearer; required with --auth-method none for a service)")
	exchangeAny := fs.Bool("exchange-any-subject", false, "allow token exchange of subject tokens issued to the organization's other clients")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	in.Type, in.RedirectURIs, in.PostLogoutRedirectURIs, in.GrantTypes = store.ClientType(typ), redirects, logouts, grants
	in.Scopes = strings.Fields(scope)
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	o, err := env.orgBySlug(ctx, *org)
	if err != nil {
		return err
	}
	cl, secret, err := env.reg.Register(ctx, o.ID, cliOAuthActor, in)
	if err != nil {
		return err
	}
	if *exchangeAny {
		if cl, err = env.reg.SetExchangeAnySubject(ctx, o.ID, cl.ClientID, cliOAuthActor, true); err != nil {
			return err
		}
	}
	j := clientJSON{Client: cl, Org: o.Slug, ClientSecret: secret}
	return c.output(*f.asJSON, j, j.human())
}

func runClientList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client list")
	f := c.oauthFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	pf := addPageFlags(fs, 100, "name starts with this")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	page, err := pf.page()
	if err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	o, err := env.orgBySlug(ctx, *org)
	if err != nil {
		return err
	}
	list, info, err := env.st.ClientPage(ctx, o.ID, page, true)
	if err != nil {
		return err
	}
	c.notePage(info)
	out := make([]clientJSON, 0, len(list))
	var lines []string
	for _, cl := range list {
		j := clientJSON{Client: cl, Org: o.Slug} // every one is o's: no lookup per client
		out = append(out, j)
		lines = append(lines, j.human())
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

// clientCommand parses --client-id and the common flags, then runs fn on
// the client and prints the result.
func clientCommand(ctx context.Context, c *cli, name string, args []string,
	fn func(env *oauthEnv, cl store.Client) (store.Client, string, error)) error {
	fs := c.newFlags("client " + name)
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the client's client_id (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	return withClient(ctx, c, f, *id, fn)
}

func runClientShow(ctx context.Context, c *cli, args []string) error {
	return clientCommand(ctx, c, "show", args, func(_ *oauthEnv, cl store.Client) (store.Client, string, error) {
		return cl, "", nil
	})
}

func runClientRotateSecret(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client rotate-secret")
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the client's client_id (required)")
	grace := fs.Duration("grace", 0, "how long the previous secret stays valid, e.g. 24h (default: it stops at once)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	return withClient(ctx, c, f, *id, func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
		return env.reg.RotateSecret(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, *grace)
	})
}

func runClientRevokeSecret(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client revoke-secret")
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the client's client_id (required)")
	secretID := fs.String("secret-id", "", "the secret's id, from `client show` (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	return withClient(ctx, c, f, *id, func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
		after, err := env.reg.RevokeSecret(ctx, cl.OrgID, cl.ClientID, *secretID, cliOAuthActor)
		return after, "", err
	})
}

func runClientSetEnabled(ctx context.Context, c *cli, args []string, enabled bool) error {
	return clientCommand(ctx, c, map[bool]string{true: "enable", false: "disable"}[enabled], args,
		func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
			after, err := env.reg.SetEnabled(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, enabled)
			return after, "", err
		})
}

func runClientDelete(ctx context.Context, c *cli, args []string) error {
	return clientCommand(ctx, c, "delete", args, func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
		return cl, "", env.reg.Delete(ctx, cl.OrgID, cl.ClientID, cliOAuthActor)
	})
}

// withClient opens the database, resolves the client and prints fn's result.
func withClient(ctx context.Context, c *cli, f oauthFlags, clientID string,
	fn func(env *oauthEnv, cl store.Client) (store.Client, string, error)) error {
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	cl, err := env.clientByID(ctx, clientID)
	if err != nil {
		return err
	}
	after, secret, err := fn(env, cl)
	if err != nil {
		return err
	}
	j := env.clientJSON(ctx, after, secret)
	return c.output(*f.asJSON, j, j.human())
}

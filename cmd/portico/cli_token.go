package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"portico/partners"
	"portico/store"
)

func runToken(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "token", args, map[string]func(context.Context, *cli, []string) error{
		"create": runTokenCreate,
		"list":   runTokenList,
		"revoke": runTokenRevoke,
	})
}

// tokenJSON is an admin API credential as the CLI prints it; token (the
// secret) only right after it was made.
type tokenJSON struct {
	store.APIToken
	Org   string `json:"org,omitempty"`
	Token string `json:"token,omitempty"`
}

func (j tokenJSON) human() string {
	var b strings.Builder
	scope := j.Org
	if scope == "" {
		scope = "platform"
	}
	fmt.Fprintf(&b, "%s %q scope=%s role=%s expires=%s", j.ID, j.Name, scope, j.Role, j.ExpiresAt.UTC().Format(time.RFC3339))
	if j.ClientID != "" {
		fmt.Fprintf(&b, " client_id=%s", j.ClientID)
	} else {
		fmt.Fprintf(&b, " hint=%s", j.Hint)
	}
	if !j.RevokedAt.IsZero() {
		b.WriteString(" revoked")
	}
	if j.Token != "" {
		fmt.Fprintf(&b, "\ntoken=%s\n(shown once: store it now)", j.Token)
	}
	return b.String()
}

// runTokenCreate makes an admin API token, or with --client-id a grant
// that lets that client's client-credentials tokens (with the
// portico:admin scope) use the API.
func runTokenCreate(ctx context.Context, c *cli, args []string) error {
	cmd := c.storeFlags("token create")
	name := cmd.fs.String("name", "", "what uses the token (required)")
	org := cmd.fs.String("org", "", "organization slug (default: the whole platform)")
	role := cmd.fs.String("role", "read", "read or admin")
	ttl := cmd.fs.Duration("ttl", partners.DefaultAPITokenTTL, "lifetime (1h to 8784h)")
	clientID := cmd.fs.String("client-id", "", "grant this OAuth client instead of making a bearer token")
	st, err := cmd.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	in := partners.APITokenInput{Name: *name, Role: store.APITokenRole(*role), TTL: *ttl, ClientID: *clientID}
	if *org != "" {
		o, err := orgBySlug(ctx, st, *org)
		if err != nil {
			return err
		}
		in.OrgID = o.ID
	}
	svc := &partners.Service{Store: st, Now: c.now}
	nt, err := svc.CreateAPIToken(ctx, partners.CLIManager(cliActor), in)
	if err != nil {
		return err
	}
	j := tokenJSON{APIToken: nt.Token, Org: *org, Token: nt.Secret}
	return c.output(*cmd.asJSON, j, j.human())
}

func runTokenList(ctx context.Context, c *cli, args []string) error {
	cmd := c.storeFlags("token list")
	org := cmd.fs.String("org", "", "only this organization's (slug)")
	st, err := cmd.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	orgID := ""
	if *org != "" {
		o, err := orgBySlug(ctx, st, *org)
		if err != nil {
			return err
		}
		orgID = o.ID
	}
	svc := &partners.Service{Store: st, Now: c.now}
	ts, err := svc.APITokens(ctx, partners.CLIManager(cliActor), orgID)
	if err != nil {
		return err
	}
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.OrgID
	}
	slugs, err := st.OrgSlugs(ctx, ids)
	if err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenJSON{APIToken: t, Org: slugs[t.OrgID]})
	}
	return outputList(c, *cmd.asJSON, out)
}

func runTokenRevoke(ctx context.Context, c *cli, args []string) error {
	cmd := c.storeFlags("token revoke")
	id := cmd.fs.String("id", "", "the token's id, from token list (required)")
	st, err := cmd.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	if *id == "" {
		return errors.New("--id is required")
	}
	svc := &partners.Service{Store: st, Now: c.now}
	t, err := svc.RevokeAPIToken(ctx, partners.CLIManager(cliActor), *id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no live token %q", *id)
	}
	if err != nil {
		return err
	}
	return c.output(*cmd.asJSON, tokenJSON{APIToken: t}, "revoked token "+t.ID)
}

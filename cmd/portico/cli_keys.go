package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"portico/authserver"
)

func runKeys(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "keys", args, map[string]func(context.Context, *cli, []string) error{
		"rotate": runKeysRotate,
	})
}

// runKeysRotate adds new signing keys; a running server switches to them at
// once and keeps publishing the old public keys until their tokens expire.
func runKeysRotate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("keys rotate")
	f := c.oauthFlags(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	keys, err := authserver.RotateKeys(ctx, env.st, env.sealer, cliOAuthActor, c.now())
	if err != nil {
		return err
	}
	type keyJSON struct {
		KID       string    `json:"kid"`
		Alg       string    `json:"alg"`
		CreatedAt time.Time `json:"created_at"`
	}
	out := make([]keyJSON, 0, len(keys))
	var lines []string
	for _, k := range keys {
		out = append(out, keyJSON{k.ID, k.Alg, k.CreatedAt})
		lines = append(lines, fmt.Sprintf("new %s key %s", k.Alg, k.ID))
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

func runRegistrationToken(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "registration-token", args, map[string]func(context.Context, *cli, []string) error{
		"create": runRegistrationTokenCreate,
	})
}

// runRegistrationTokenCreate makes an initial access token for dynamic
// client registration (RFC 7591) in one organization.
func runRegistrationTokenCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("registration-token create")
	f := c.oauthFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	desc := fs.String("description", "", "what the token is for")
	ttl := fs.Duration("ttl", 0, "lifetime, e.g. 720h (default: no expiry)")
	maxUses := fs.Int("max-uses", 0, "how many clients it may register (default: unlimited)")
	if err := parseArgs(fs, args); err != nil {
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
	t, plain, err := env.reg.CreateRegistrationToken(ctx, o.ID, cliOAuthActor,
		authserver.RegistrationTokenInput{Description: *desc, TTL: *ttl, MaxUses: *maxUses})
	if err != nil {
		return err
	}
	out := struct {
		ID        string     `json:"id"`
		Org       string     `json:"org"`
		Token     string     `json:"token"`
		ExpiresAt *time.Time `json:"expires_at,omitempty"`
		MaxUses   int        `json:"max_uses"`
	}{ID: t.ID, Org: o.Slug, Token: plain, MaxUses: t.MaxUses}
	if !t.ExpiresAt.IsZero() {
		out.ExpiresAt = &t.ExpiresAt
	}
	return c.output(*f.asJSON, out, fmt.Sprintf("registration token for %s (id %s):\n%s\n(shown once: store it now)", o.Slug, t.ID, plain))
}

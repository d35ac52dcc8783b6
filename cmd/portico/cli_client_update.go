package main

import (
	"context"
	"errors"
	"flag"

	"portico/store"
)

// runClientUpdate changes what only the platform operator decides about a
// client; today, whether it is first-party (--first-party: its users see
// no consent page) or third-party (--first-party=false).
func runClientUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client update")
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the client's client_id (required)")
	firstParty := fs.Bool("first-party", false, "the platform's own app: no consent page (--first-party=false: ask for consent)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["first-party"] {
		return errors.New("nothing to update: give --first-party or --first-party=false")
	}
	return withClient(ctx, c, f, *id, func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
		after, err := env.reg.SetFirstParty(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, *firstParty)
		return after, "", err
	})
}

package main

import (
	"context"
	"errors"
	"flag"

	"portico/store"
)

// runClientUpdate changes what only the platform operator decides about a
// client: whether it is first-party (--first-party: its users see no consent
// page), and whether it may exchange (RFC 8693) subject tokens of its
// organization that were issued to other clients and do not name it in aud
// (--exchange-any-subject).
func runClientUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client update")
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the client's client_id (required)")
	firstParty := fs.Bool("first-party", false, "the platform's own app: no consent page (--first-party=false: ask for consent)")
	exchange := fs.Bool("exchange-any-subject", false, "allow token exchange of subject tokens issued to the organization's other clients")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	setFirstParty, setExchange := flagSet(fs, "first-party"), flagSet(fs, "exchange-any-subject")
	if !setFirstParty && !setExchange {
		return errors.New("nothing to update: give --first-party[=false] or --exchange-any-subject[=false]")
	}
	return withClient(ctx, c, f, *id, func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
		after := cl
		var err error
		if setFirstParty {
			if after, err = env.reg.SetFirstParty(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, *firstParty); err != nil {
				return after, "", err
			}
		}
		if setExchange {
			after, err = env.reg.SetExchangeAnySubject(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, *exchange)
		}
		return after, "", err
	})
}

// flagSet reports whether the command line named flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

package main

import (
	"context"
	"errors"
	"flag"

	"portico/store"
)

// runClientUpdate changes a client's platform-level settings. Today that is
// --exchange-any-subject: whether the client may exchange (RFC 8693) subject
// tokens of its organization that were issued to other clients and do not
// name it in aud.
func runClientUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client update")
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the client's client_id (required)")
	exchange := fs.Bool("exchange-any-subject", false, "allow token exchange of subject tokens issued to the organization's other clients")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if !flagSet(fs, "exchange-any-subject") {
		return errors.New("name a setting to change, e.g. --exchange-any-subject=true")
	}
	return withClient(ctx, c, f, *id, func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
		after, err := env.reg.SetExchangeAnySubject(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, *exchange)
		return after, "", err
	})
}

// flagSet reports whether the command line named flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

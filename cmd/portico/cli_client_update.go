package main

import (
	"context"
	"errors"
	"flag"

	"portico/authserver"
	"portico/store"
)

// runClientUpdate changes a client's platform-level settings:
//
//   - --first-party: the platform's own app, its users see no consent
//     page;
//   - --exchange-any-subject: whether the client may exchange (RFC 8693)
//     subject tokens of its organization that were issued to other clients
//     and do not name it in aud;
//   - --require-par: its authorization requests must be pushed (RFC 9126);
//   - --require-dpop: its tokens must be DPoP-bound (RFC 9449);
//   - --fapi2: it is held to the FAPI 2.0 Security Profile (refused for a
//     client that cannot meet it).
func runClientUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client update")
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the client's client_id (required)")
	firstParty := fs.Bool("first-party", false, "the platform's own app: no consent page (--first-party=false: ask for consent)")
	exchange := fs.Bool("exchange-any-subject", false, "allow token exchange of subject tokens issued to the organization's other clients")
	par := fs.Bool("require-par", false, "require pushed authorization requests (RFC 9126)")
	dpop := fs.Bool("require-dpop", false, "require DPoP-bound tokens (RFC 9449)")
	fapi := fs.Bool("fapi2", false, "hold the client to the FAPI 2.0 Security Profile (PAR, PKCE, private_key_jwt, DPoP, PS256/ES256)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	var sec authserver.ClientSecurity
	if flagSet(fs, "require-par") {
		sec.RequirePAR = par
	}
	if flagSet(fs, "require-dpop") {
		sec.RequireDPoP = dpop
	}
	if flagSet(fs, "fapi2") {
		sec.FAPI2 = fapi
	}
	security := sec != authserver.ClientSecurity{}
	setFirstParty, setExchange := flagSet(fs, "first-party"), flagSet(fs, "exchange-any-subject")
	if !setFirstParty && !setExchange && !security {
		return errors.New("nothing to update: give --first-party[=false], --exchange-any-subject[=false], --require-par, --require-dpop or --fapi2")
	}
	return withClient(ctx, c, f, *id, func(env *oauthEnv, cl store.Client) (store.Client, string, error) {
		var err error
		if setFirstParty {
			if cl, err = env.reg.SetFirstParty(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, *firstParty); err != nil {
				return cl, "", err
			}
		}
		if setExchange {
			if cl, err = env.reg.SetExchangeAnySubject(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, *exchange); err != nil {
				return cl, "", err
			}
		}
		if security {
			cl, err = env.reg.SetSecurity(ctx, cl.OrgID, cl.ClientID, cliOAuthActor, sec)
		}
		return cl, "", err
	})
}

// flagSet reports whether the command line named flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"portico/authserver"
	"portico/store"
)

// oauthFlags are the flags every OAuth admin command shares: the database,
// the secret key that unseals the secret-hashing and signing keys, --json.
type oauthFlags struct {
	db, secretKey *string
	asJSON        *bool
}

func (c *cli) oauthFlags(fs *flag.FlagSet) oauthFlags {
	return oauthFlags{
		db:        c.dbFlag(fs),
		secretKey: fs.String("secret-key", c.getenv("PORTICO_SECRET_KEY"), "base64 of 32 bytes (env PORTICO_SECRET_KEY; default: the key file beside the database)"),
		asJSON:    fs.Bool("json", false, "print JSON"),
	}
}

// oauthEnv is an open database with the sealer and the Registrar, the same
// business operations the portal's pages use.
type oauthEnv struct {
	st     *store.Store
	sealer *store.Sealer
	reg    *authserver.Registrar
}

func (c *cli) openOAuth(ctx context.Context, f oauthFlags) (*oauthEnv, error) {
	sealer, err := cliSealer(*f.secretKey, *f.db)
	if err != nil {
		return nil, err
	}
	st, err := c.openStore(ctx, *f.db)
	if err != nil {
		return nil, err
	}
	reg, err := authserver.NewRegistrar(ctx, authserver.RegistrarConfig{Store: st, Sealer: sealer, Now: c.now})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &oauthEnv{st: st, sealer: sealer, reg: reg}, nil
}

func (e *oauthEnv) close() { e.st.Close() }

// orgBySlug resolves --org.
func (e *oauthEnv) orgBySlug(ctx context.Context, slug string) (store.Organization, error) {
	if slug == "" {
		return store.Organization{}, errors.New("--org is required")
	}
	o, err := e.st.OrganizationBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return o, fmt.Errorf("no organization %q", slug)
	}
	return o, err
}

// clientByID resolves --client-id across organizations (the CLI is a
// platform administrator's tool).
func (e *oauthEnv) clientByID(ctx context.Context, clientID string) (store.Client, error) {
	if clientID == "" {
		return store.Client{}, errors.New("--client-id is required")
	}
	cl, err := e.st.LookupClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return cl, fmt.Errorf("no client %q", clientID)
	}
	return cl, err
}

var cliOAuthActor = authserver.Actor{Label: cliActor}

// parseArgs parses flags and refuses stray arguments.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

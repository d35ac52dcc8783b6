package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"

	"portico/store"
)

// dbFlag registers --db with PORTICO_DB (then portico.db) as its default.
func (c *cli) dbFlag(fs *flag.FlagSet) *string {
	def := c.getenv("PORTICO_DB")
	if def == "" {
		def = "portico.db"
	}
	return fs.String("db", def, "SQLite database file or postgres:// URL (env PORTICO_DB)")
}

// newFlags returns a flag set that reports errors instead of exiting.
func (c *cli) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("portico "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

// openStore opens the database for an admin command.
func (c *cli) openStore(ctx context.Context, path string) (*store.Store, error) {
	s, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	s.Now = c.now
	return s, nil
}

// output prints v as indented JSON when asJSON, else the human text.
func (c *cli) output(asJSON bool, v any, human string) error {
	if asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprintln(c.stdout, strings.TrimRight(human, "\n"))
	return err
}

// subcommand dispatches args[0] among subs.
func (c *cli) subcommand(ctx context.Context, group string, args []string,
	subs map[string]func(ctx context.Context, c *cli, args []string) error) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintf(c.stderr, "usage: portico %s {%s} [flags]\n", group, strings.Join(names, "|"))
		if len(args) == 0 {
			return fmt.Errorf("%s: missing subcommand", group)
		}
		return fmt.Errorf("%s: unknown subcommand %q", group, args[0])
	}
	return subs[args[0]](ctx, c, args[1:])
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cliActor is how changes made from the command line appear in the audit log.
const cliActor = "cli"

// cliSealer returns the sealer an admin command encrypts secrets with: the
// --secret-key given (PORTICO_SECRET_KEY), else the key file beside the
// database, found exactly as the server finds it, so what one seals the
// other opens.
func cliSealer(rawKey, db string) (*store.Sealer, error) {
	cfg := &Config{DB: db}
	if rawKey != "" {
		key, err := base64.StdEncoding.DecodeString(rawKey)
		if err != nil || len(key) != 32 {
			return nil, errors.New("PORTICO_SECRET_KEY must be the base64 encoding of exactly 32 bytes")
		}
		cfg.SecretKey = key
	} else if store.IsPostgres(db) {
		return nil, errors.New("PORTICO_SECRET_KEY is required with a PostgreSQL database (there is no file beside it to keep the key in)")
	} else {
		cfg.SecretKeyFile = db + ".key"
	}
	return cfg.sealer()
}

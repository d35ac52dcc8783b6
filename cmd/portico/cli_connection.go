package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"portico/federation"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/store"
)

func runConnection(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "connection", args, map[string]func(context.Context, *cli, []string) error{
		"create": runConnectionCreate,
		"update": runConnectionUpdate,
		"list":   runConnectionList,
	})
}

// connectionJSON is a connection as the CLI prints it: its settings and
// where to register it upstream, never its secret.
type connectionJSON struct {
	ID          string            `json:"id"`
	Org         string            `json:"org"`
	Type        string            `json:"type"`
	Name        string            `json:"name"`
	Enabled     bool              `json:"enabled"`
	ShowOnLogin bool              `json:"show_on_login"`
	HasSecret   bool              `json:"has_secret"`
	Settings    map[string]string `json:"settings"`
	Version     int64             `json:"version"`
	handlers.UpstreamURLs
}

func (j connectionJSON) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "id=%s name=%q type=%s org=%s enabled=%v", j.ID, j.Name, j.Type, j.Org, j.Enabled)
	if j.RedirectURI != "" {
		fmt.Fprintf(&b, "\nredirect_uri=%s\n(register it as the redirect or callback URL at the identity provider)", j.RedirectURI)
	}
	if j.MetadataURL != "" {
		fmt.Fprintf(&b, "\nsaml_metadata_url=%s\nsaml_acs_url=%s\n(import the metadata at the identity provider)", j.MetadataURL, j.ACSURL)
	}
	return b.String()
}

// fedEnv is an open database with the connection service the portal's
// pages use, so the CLI validates, seals and audits the same way.
type fedEnv struct {
	st      *store.Store
	svc     *federation.Service
	baseURL string
}

func (e *fedEnv) close() { e.st.Close() }

// fedFlags are the flags every connection command shares.
type fedFlags struct {
	db, secretKey, portalURL *string
	asJSON                   *bool
}

func (c *cli) fedFlags(fs *flag.FlagSet) fedFlags {
	portal := c.getenv("PORTICO_ISSUER")
	if portal == "" {
		portal = "http://localhost:8080"
	}
	return fedFlags{
		db:        c.dbFlag(fs),
		secretKey: fs.String("secret-key", c.getenv("PORTICO_SECRET_KEY"), "base64 of 32 bytes (env PORTICO_SECRET_KEY; default: the key file beside the database)"),
		portalURL: fs.String("portal-url", portal, "the portal's public base URL, for the URLs to register upstream (env PORTICO_ISSUER)"),
		asJSON:    fs.Bool("json", false, "print JSON"),
	}
}

// openFederation opens the database and the sealer with the same secret
// key the server uses, so secrets sealed here open there.
func (c *cli) openFederation(ctx context.Context, f fedFlags) (*fedEnv, error) {
	sealer, err := cliSealer(*f.secretKey, *f.db)
	if err != nil {
		return nil, err
	}
	st, err := c.openStore(ctx, *f.db)
	if err != nil {
		return nil, err
	}
	svc := &federation.Service{Store: st, Sealer: sealer, Registry: builtin.Registry(), Now: c.now}
	return &fedEnv{st: st, svc: svc, baseURL: *f.portalURL}, nil
}

// connectionJSON prints x, a connection of the organization orgSlug.
func (e *fedEnv) connectionJSON(orgSlug string, x store.Connection) connectionJSON {
	j := connectionJSON{ID: x.ID, Org: orgSlug, Type: x.Type, Name: x.Name, Enabled: x.Enabled,
		ShowOnLogin: x.ShowOnLogin, HasSecret: len(x.Secret) > 0, Version: x.Version, Settings: map[string]string{},
		UpstreamURLs: handlers.ConnectionUpstreamURLs(e.baseURL, x)}
	if cfg, err := e.svc.Registry.Decode(x.Type, x.Config); err == nil {
		j.Settings = cfg.Settings()
	}
	return j
}

// settingFlags registers one flag per setting key of every connection type
// (client_id becomes --client-id), so each type's settings are flags
// without the CLI knowing the types.
type settingFlags struct {
	values               map[string]*string // by setting key
	secret, clientSecret *string
	name                 *string
	enabled, showOnLogin *bool
}

func addSettingFlags(fs *flag.FlagSet, reg *federation.Registry) *settingFlags {
	sf := &settingFlags{values: map[string]*string{}}
	for _, t := range reg.Types() {
		for _, fl := range t.Fields {
			if _, ok := sf.values[fl.Key]; ok {
				continue
			}
			usage := fl.Label + " (" + strings.Join(typesWithKey(reg, fl.Key), ", ") + ")"
			if fl.Multiline {
				usage += "; @FILE reads it from a file"
			}
			sf.values[fl.Key] = fs.String(flagName(fl.Key), "", usage)
		}
	}
	sf.name = fs.String("name", "", "display name")
	sf.clientSecret = fs.String("client-secret", "", "upstream client secret (sealed at once, never printed)")
	sf.secret = fs.String("secret", "", "the type's secret, e.g. the sandbox's shared password (sealed at once, never printed)")
	sf.enabled = fs.Bool("enabled", true, "whether people may sign in through it")
	sf.showOnLogin = fs.Bool("show-on-login", false, `list it under "sign in with" on the sign-in page`)
	return sf
}

func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

func typesWithKey(reg *federation.Registry, key string) []string {
	var out []string
	for _, t := range reg.Types() {
		for _, fl := range t.Fields {
			if fl.Key == key {
				out = append(out, t.Name)
			}
		}
	}
	return out
}

// input turns the flags given on the command line into a change for type
// t. A setting flag of another type is an error rather than silently
// ignored, since it usually means a typo in --type.
func (sf *settingFlags) input(fs *flag.FlagSet, t federation.Type) (federation.Input, error) {
	in := federation.Input{Type: t.Name, Settings: map[string]string{}}
	var problems []string
	known := map[string]federation.Field{}
	for _, fl := range t.Fields {
		known[fl.Key] = fl
	}
	keys := make([]string, 0, len(sf.values))
	for k := range sf.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !usedFlag(fs, flagName(k)) {
			continue
		}
		fl, ok := known[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("--%s does not apply to %s connections", flagName(k), t.Name))
			continue
		}
		v := *sf.values[k]
		if fl.Multiline && strings.HasPrefix(v, "@") {
			b, err := os.ReadFile(v[1:])
			if err != nil {
				problems = append(problems, fmt.Sprintf("--%s: %v", flagName(k), err))
				continue
			}
			v = string(b)
		}
		in.Settings[k] = v
	}
	if usedFlag(fs, "client-secret") && usedFlag(fs, "secret") {
		problems = append(problems, "give --client-secret or --secret, not both")
	}
	for _, n := range []string{"client-secret", "secret"} {
		if !usedFlag(fs, n) {
			continue
		}
		if t.Secret == "" {
			problems = append(problems, fmt.Sprintf("--%s does not apply to %s connections", n, t.Name))
			continue
		}
		v := *sf.secret
		if n == "client-secret" {
			v = *sf.clientSecret
		}
		in.Secret = &v
	}
	if usedFlag(fs, "name") {
		in.Name = sf.name
	}
	if usedFlag(fs, "enabled") {
		in.Enabled = sf.enabled
	}
	if usedFlag(fs, "show-on-login") {
		in.ShowOnLogin = sf.showOnLogin
	}
	if len(problems) > 0 {
		return in, errors.New(strings.Join(problems, "; "))
	}
	return in, nil
}

// fieldError turns the service's per-field messages into one error naming
// the flags to fix.
func fieldError(err error) error {
	fe, ok := federation.IsFieldErrors(err)
	if !ok {
		return err
	}
	return flagProblems("connection", fe)
}

// flagProblems is one error naming, in order, each flag to fix and why;
// a field key is the flag's name with underscores for dashes.
func flagProblems(what string, fe map[string]string) error {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, "--"+flagName(k)+": "+fe[k])
	}
	return errors.New("invalid " + what + ": " + strings.Join(parts, "; "))
}

func runConnectionCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("connection create")
	f := c.fedFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	typ := fs.String("type", "", "oidc, saml, sandbox, github, google, microsoft, gitlab, okta, auth0 or pool (required)")
	reg := builtin.Registry()
	sf := addSettingFlags(fs, reg)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *org == "" || *typ == "" {
		return errors.New("--org and --type are required")
	}
	t, ok := reg.Type(*typ)
	if !ok {
		return fmt.Errorf("--type %q is not one of %s", *typ, strings.Join(reg.Names(), ", "))
	}
	in, err := sf.input(fs, t)
	if err != nil {
		return err
	}
	env, err := c.openFederation(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	o, err := orgBySlug(ctx, env.st, *org)
	if err != nil {
		return err
	}
	x, err := env.svc.Create(ctx, store.Actor{Label: cliActor}, o.ID, in)
	if err != nil {
		return fieldError(err)
	}
	j := env.connectionJSON(o.Slug, x)
	return c.output(*f.asJSON, j, j.human())
}

func runConnectionUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("connection update")
	f := c.fedFlags(fs)
	id := fs.String("id", "", "connection ID (required)")
	reg := builtin.Registry()
	sf := addSettingFlags(fs, reg)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("--id is required")
	}
	env, err := c.openFederation(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	// The CLI is a platform administrator's tool: the ID alone finds the
	// connection, and the update is then scoped to its organization.
	cur, err := env.st.ConnectionByID(ctx, *id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no connection %q", *id)
	}
	if err != nil {
		return err
	}
	t, ok := reg.Type(cur.Type)
	if !ok {
		return fmt.Errorf("connection %s has unknown type %q", cur.ID, cur.Type)
	}
	in, err := sf.input(fs, t)
	if err != nil {
		return err
	}
	x, err := env.svc.Update(ctx, store.Actor{Label: cliActor}, cur.OrgID, cur.ID, in)
	if err != nil {
		return fieldError(err)
	}
	j := env.connectionJSON(orgSlugOf(ctx, env.st, x.OrgID), x)
	return c.output(*f.asJSON, j, j.human())
}

func runConnectionList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("connection list")
	f := c.fedFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *org == "" {
		return errors.New("--org is required")
	}
	env, err := c.openFederation(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	o, err := orgBySlug(ctx, env.st, *org)
	if err != nil {
		return err
	}
	rows, err := env.st.Connections(ctx, o.ID)
	if err != nil {
		return err
	}
	out := []connectionJSON{}
	var lines []string
	for _, x := range rows {
		j := env.connectionJSON(o.Slug, x)
		out = append(out, j)
		lines = append(lines, fmt.Sprintf("%s %-10s %-8v %s", j.ID, j.Type, enabledWord(j.Enabled), j.Name))
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

// orgBySlug resolves --org, naming a slug that matches no organization.
func orgBySlug(ctx context.Context, st *store.Store, slug string) (store.Organization, error) {
	o, err := st.OrganizationBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		return o, fmt.Errorf("no organization %q", slug)
	}
	return o, err
}

func enabledWord(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"portico/authserver"
	"portico/store"
)

func runAPI(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "api", args, map[string]func(context.Context, *cli, []string) error{
		"create": runAPICreate,
		"list":   runAPIList,
		"show":   runAPIShow,
		"update": runAPIUpdate,
		"delete": runAPIDelete,
	})
}

// apiFlags are the settings create and update share.
type apiFlags struct {
	identifier, name, description *string
	lifetime                      *time.Duration
	requireDPoP, publish          *bool
	scopes, plans, orgs           multiFlag
}

func newAPIFlags(fs *flag.FlagSet) *apiFlags {
	f := &apiFlags{
		identifier:  fs.String("identifier", "", "the API's identifier: the https URI clients send as resource and tokens carry as aud"),
		name:        fs.String("name", "", "display name"),
		description: fs.String("description", "", "what the API is"),
		lifetime:    fs.Duration("token-lifetime", 0, "access-token lifetime for this API, e.g. 5m (0: the server's default)"),
		requireDPoP: fs.Bool("require-dpop", false, "accept only sender-constrained (DPoP) tokens"),
		publish:     fs.Bool("publish-metadata", false, "Portico serves the API's RFC 9728 protected resource metadata"),
	}
	fs.Var(&f.scopes, "scope", "a scope of the API, name or name=description (repeatable; on update, replaces the list)")
	fs.Var(&f.plans, "allow-plan", "plan slug that may use the API (repeatable; platform APIs only)")
	fs.Var(&f.orgs, "allow-org", "organization slug that may use the API (repeatable)")
	return f
}

// apply sets on in what was given on the command line (all of it on create).
func (f *apiFlags) apply(ctx context.Context, env *oauthEnv, fs *flag.FlagSet, in *authserver.APIInput) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["identifier"] {
		in.Identifier = *f.identifier
	}
	if set["name"] {
		in.Name = *f.name
	}
	if set["description"] {
		in.Description = *f.description
	}
	if set["token-lifetime"] {
		in.TokenLifetime = *f.lifetime
	}
	if set["require-dpop"] {
		in.RequireSenderConstrained = *f.requireDPoP
	}
	if set["publish-metadata"] {
		in.PublishMetadata = *f.publish
	}
	if set["scope"] {
		in.Scopes = nil
		for _, s := range f.scopes {
			name, desc, _ := strings.Cut(s, "=")
			in.Scopes = append(in.Scopes, store.APIScope{Name: name, Description: desc})
		}
	}
	if set["allow-plan"] {
		in.AllowedPlans = nil
		for _, slug := range f.plans {
			p, err := env.st.PlanBySlug(ctx, slug)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no plan %q", slug)
			} else if err != nil {
				return err
			}
			in.AllowedPlans = append(in.AllowedPlans, p.ID)
		}
	}
	if set["allow-org"] {
		in.AllowedOrgs = nil
		for _, slug := range f.orgs {
			o, err := env.orgBySlug(ctx, slug)
			if err != nil {
				return err
			}
			in.AllowedOrgs = append(in.AllowedOrgs, o.ID)
		}
	}
	return nil
}

// apiJSON is an API as the CLI prints it.
type apiJSON struct {
	ID                       string           `json:"id"`
	Identifier               string           `json:"identifier"`
	Name                     string           `json:"name"`
	Description              string           `json:"description,omitempty"`
	Owner                    string           `json:"owner"` // "platform" or an organization slug
	Scopes                   []store.APIScope `json:"scopes"`
	TokenLifetime            string           `json:"token_lifetime,omitempty"`
	RequireSenderConstrained bool             `json:"require_sender_constrained"`
	PublishMetadata          bool             `json:"publish_metadata"`
	AllowedPlans             []string         `json:"allowed_plans"`
	AllowedOrgs              []string         `json:"allowed_orgs"`
}

func toAPIJSON(ctx context.Context, st *store.Store, a store.API) apiJSON {
	j := apiJSON{ID: a.ID, Identifier: a.Identifier, Name: a.Name, Description: a.Description, Owner: "platform",
		Scopes: a.Scopes, RequireSenderConstrained: a.RequireSenderConstrained, PublishMetadata: a.PublishMetadata,
		AllowedPlans: []string{}, AllowedOrgs: []string{}}
	if a.TokenTTL > 0 {
		j.TokenLifetime = a.TokenTTL.String()
	}
	if j.Scopes == nil {
		j.Scopes = []store.APIScope{}
	}
	slug := func(id string) string {
		if o, err := st.Organization(ctx, id); err == nil {
			return o.Slug
		}
		return id
	}
	if a.OrgID != "" {
		j.Owner = slug(a.OrgID)
	}
	for _, id := range a.AllowedPlans {
		if p, err := st.Plan(ctx, id); err == nil {
			id = p.Slug
		}
		j.AllowedPlans = append(j.AllowedPlans, id)
	}
	for _, id := range a.AllowedOrgs {
		j.AllowedOrgs = append(j.AllowedOrgs, slug(id))
	}
	return j
}

func (j apiJSON) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q owner=%s id=%s", j.Identifier, j.Name, j.Owner, j.ID)
	names := make([]string, len(j.Scopes))
	for i, sc := range j.Scopes {
		names[i] = sc.Name
	}
	fmt.Fprintf(&b, "\n  scopes=%s", strings.Join(names, ","))
	if j.TokenLifetime != "" {
		fmt.Fprintf(&b, " token_lifetime=%s", j.TokenLifetime)
	}
	if j.RequireSenderConstrained {
		b.WriteString(" require_dpop")
	}
	if j.PublishMetadata {
		b.WriteString(" publish_metadata")
	}
	if len(j.AllowedPlans) > 0 {
		fmt.Fprintf(&b, " plans=%s", strings.Join(j.AllowedPlans, ","))
	}
	if len(j.AllowedOrgs) > 0 {
		fmt.Fprintf(&b, " orgs=%s", strings.Join(j.AllowedOrgs, ","))
	}
	return b.String()
}

func runAPICreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("api create")
	f := c.oauthFlags(fs)
	org := fs.String("org", "", "owning organization's slug (default: a platform API)")
	af := newAPIFlags(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	orgID := ""
	if *org != "" {
		o, err := env.orgBySlug(ctx, *org)
		if err != nil {
			return err
		}
		orgID = o.ID
	}
	var in authserver.APIInput
	if err := af.apply(ctx, env, fs, &in); err != nil {
		return err
	}
	a, err := env.reg.CreateAPI(ctx, orgID, cliOAuthActor, in)
	if err != nil {
		return err
	}
	j := toAPIJSON(ctx, env.st, a)
	return c.output(*f.asJSON, j, "created API "+j.human())
}

// findAPI resolves --id or --identifier.
func findAPI(ctx context.Context, env *oauthEnv, id, identifier string) (store.API, error) {
	switch {
	case id != "":
		a, err := env.st.API(ctx, "", id)
		if errors.Is(err, store.ErrNotFound) {
			return a, fmt.Errorf("no API %q", id)
		}
		return a, err
	case identifier != "":
		a, err := env.st.APIByIdentifier(ctx, identifier)
		if errors.Is(err, store.ErrNotFound) {
			return a, fmt.Errorf("no API %q", identifier)
		}
		return a, err
	}
	return store.API{}, errors.New("--id or --identifier is required")
}

func runAPIList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("api list")
	f := c.oauthFlags(fs)
	org := fs.String("org", "", "only this organization's APIs")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	var list []store.API
	if *org != "" {
		o, err := env.orgBySlug(ctx, *org)
		if err != nil {
			return err
		}
		list, err = env.st.OrgAPIs(ctx, o.ID)
		if err != nil {
			return err
		}
	} else if list, err = env.st.APIs(ctx); err != nil {
		return err
	}
	out := []apiJSON{}
	var lines []string
	for _, a := range list {
		j := toAPIJSON(ctx, env.st, a)
		out = append(out, j)
		lines = append(lines, j.human())
	}
	if len(out) == 0 {
		return c.output(*f.asJSON, out, "no APIs")
	}
	return c.output(*f.asJSON, out, strings.Join(lines, "\n"))
}

func runAPIShow(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("api show")
	f := c.oauthFlags(fs)
	id := fs.String("id", "", "the API's id")
	identifier := fs.String("identifier", "", "the API's identifier")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	a, err := findAPI(ctx, env, *id, *identifier)
	if err != nil {
		return err
	}
	j := toAPIJSON(ctx, env.st, a)
	return c.output(*f.asJSON, j, j.human())
}

func runAPIUpdate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("api update")
	f := c.oauthFlags(fs)
	id := fs.String("id", "", "the API's id (required unless --identifier names it)")
	af := newAPIFlags(fs)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	a, err := findAPI(ctx, env, *id, *af.identifier)
	if err != nil {
		return err
	}
	in := authserver.APIInput{Identifier: a.Identifier, Name: a.Name, Description: a.Description, Scopes: a.Scopes,
		TokenLifetime: a.TokenTTL, RequireSenderConstrained: a.RequireSenderConstrained, PublishMetadata: a.PublishMetadata,
		AllowedPlans: a.AllowedPlans, AllowedOrgs: a.AllowedOrgs}
	if err := af.apply(ctx, env, fs, &in); err != nil {
		return err
	}
	a, err = env.reg.UpdateAPI(ctx, "", a.ID, cliOAuthActor, in)
	if err != nil {
		return err
	}
	j := toAPIJSON(ctx, env.st, a)
	return c.output(*f.asJSON, j, "updated API "+j.human())
}

func runAPIDelete(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("api delete")
	f := c.oauthFlags(fs)
	id := fs.String("id", "", "the API's id")
	identifier := fs.String("identifier", "", "the API's identifier")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	a, err := findAPI(ctx, env, *id, *identifier)
	if err != nil {
		return err
	}
	if err := env.reg.DeleteAPI(ctx, "", a.ID, cliOAuthActor); err != nil {
		return err
	}
	return c.output(*f.asJSON, map[string]string{"deleted": a.ID, "identifier": a.Identifier}, "deleted API "+a.Identifier)
}

// runOrgClientMetadata is `portico org client-metadata --slug S allow|deny`:
// whether the organization's users may sign in to clients identified by a
// Client ID Metadata Document (AI agents and other unregistered clients).
func runOrgClientMetadata(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("org client-metadata")
	f := c.oauthFlags(fs)
	slug := fs.String("slug", "", "organization slug (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "allow" && fs.Arg(0) != "deny") {
		return errors.New("usage: portico org client-metadata --slug S allow|deny")
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	o, err := env.orgBySlug(ctx, *slug)
	if err != nil {
		return err
	}
	allow := fs.Arg(0) == "allow"
	if err := env.reg.SetOrgClientMetadata(ctx, o.ID, cliOAuthActor, allow); err != nil {
		return err
	}
	return c.output(*f.asJSON, map[string]any{"org": o.Slug, "allow_client_metadata": allow},
		fmt.Sprintf("%s: client metadata documents %s", o.Slug, fs.Arg(0)))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"portico/federation/pool"
	"portico/store"
)

func runUser(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "user", args, map[string]func(context.Context, *cli, []string) error{
		"create":        runUserCreate,
		"reset-link":    runUserResetLink,
		"set-attribute": runUserSetAttribute,
	})
}

// maxResetTTL bounds --ttl of reset links: a link that lives for weeks is
// a standing password.
const maxResetTTL = 7 * 24 * time.Hour

// userJSON is an identity-pool user as the CLI prints it; the password
// appears only when the CLI generated it.
type userJSON struct {
	ID       string   `json:"id"`
	Org      string   `json:"org"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Groups   []string `json:"groups"`
	Password string   `json:"password,omitempty"`
}

func (j userJSON) human() string {
	s := fmt.Sprintf("id=%s email=%s name=%q role=%s org=%s", j.ID, j.Email, j.Name, j.Role, j.Org)
	if len(j.Groups) > 0 {
		s += " groups=" + strings.Join(j.Groups, ",")
	}
	if j.Password != "" {
		s += "\npassword=" + j.Password + "\n(shown once: hand it over now)"
	}
	return s
}

func runUserCreate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("user create")
	f := c.fedFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name (required)")
	password := fs.String("password", "", "password of at least 12 characters (default: a random one, printed once)")
	role := fs.String("role", "member", "member, developer or admin")
	var groups multiFlag
	fs.Var(&groups, "group", "local group (repeatable)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *org == "" {
		return errors.New("--org is required")
	}
	generated := ""
	if !usedFlag(fs, "password") {
		generated = pool.GeneratePassword()
		*password = generated
	}
	st, err := c.openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := orgBySlug(ctx, st, *org)
	if err != nil {
		return err
	}
	accounts := &pool.Accounts{Store: st, Now: c.now}
	u, err := accounts.CreateUser(ctx, store.Actor{Label: cliActor}, o.ID, pool.NewUser{Email: *email, Name: *name,
		Password: *password, Role: store.Role(*role), Groups: groups})
	if err != nil {
		return userFieldError(err)
	}
	j := userJSON{ID: u.ID, Org: o.Slug, Email: u.Email, Name: u.Name, Role: string(u.Role), Groups: u.LocalGroups,
		Password: generated}
	if j.Groups == nil {
		j.Groups = []string{}
	}
	return c.output(*f.asJSON, j, j.human())
}

// userFieldError names the flags to fix.
func userFieldError(err error) error {
	var fe pool.FieldErrors
	if !errors.As(err, &fe) {
		return err
	}
	return flagProblems("user", fe)
}

// resetLinkJSON is an issued reset link; the URL holds the only copy of
// the token.
type resetLinkJSON struct {
	URL       string    `json:"url"`
	Email     string    `json:"email"`
	Org       string    `json:"org"`
	ExpiresAt time.Time `json:"expires_at"`
}

func runUserResetLink(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("user reset-link")
	f := c.fedFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	email := fs.String("email", "", "the user's email (required)")
	ttl := fs.Duration("ttl", pool.DefaultResetTTL, "how long the link works (at most 168h)")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *org == "" || *email == "" {
		return errors.New("--org and --email are required")
	}
	if *ttl <= 0 || *ttl > maxResetTTL {
		return fmt.Errorf("--ttl must be between 1s and %s", maxResetTTL)
	}
	st, err := c.openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := orgBySlug(ctx, st, *org)
	if err != nil {
		return err
	}
	u, err := st.UserByEmail(ctx, o.ID, *email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s in %s", *email, *org)
	}
	if err != nil {
		return err
	}
	accounts := &pool.Accounts{Store: st, Now: c.now, ResetTTL: *ttl}
	// The CLI runs with the database's own rights, as a platform
	// administrator would.
	link, err := accounts.IssueResetLink(ctx, pool.Issuer{Actor: store.Actor{Label: cliActor}, PlatformAdmin: true}, o.ID, u.ID)
	if errors.Is(err, pool.ErrNotPoolUser) {
		return fmt.Errorf("%s signs in through an identity provider and has no Portico password to reset", u.Email)
	}
	if err != nil {
		return err
	}
	j := resetLinkJSON{URL: link.URL(*f.portalURL), Email: u.Email, Org: o.Slug, ExpiresAt: link.ExpiresAt.UTC()}
	return c.output(*f.asJSON, j, fmt.Sprintf("Reset link for %s (works once, until %s):\n%s",
		j.Email, j.ExpiresAt.Format(time.RFC3339), j.URL))
}

// runUserSetAttribute sets (or, with an empty --value, removes) one of a
// user's attributes: what attribute and param_in_attribute conditions
// read. A list is comma-separated: --value c-1,c-2.
func runUserSetAttribute(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("user set-attribute")
	f := c.fedFlags(fs)
	org := fs.String("org", "", "organization slug (required)")
	email := fs.String("email", "", "the user's email (required)")
	name := fs.String("name", "", "attribute name, e.g. assigned_customers (required)")
	value := fs.String("value", "", "value; a list is comma-separated (a,b); empty removes the attribute")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *org == "" || *email == "" || *name == "" {
		return errors.New("--org, --email and --name are required")
	}
	st, err := c.openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := orgBySlug(ctx, st, *org)
	if err != nil {
		return err
	}
	u, err := st.UserByEmail(ctx, o.ID, *email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s in %s", *email, *org)
	}
	if err != nil {
		return err
	}
	accounts := &pool.Accounts{Store: st, Now: c.now}
	after, err := accounts.SetAttribute(ctx, store.Actor{Label: cliActor}, o.ID, u.ID, *name, *value)
	if err != nil {
		return userFieldError(err)
	}
	j := map[string]string{"email": u.Email, "org": o.Slug, "name": *name, "value": after.Attributes[*name]}
	return c.output(*f.asJSON, j, fmt.Sprintf("%s: %s=%s", u.Email, *name, j["value"]))
}

// attributeValue checks an attribute's name and value for the
// set-attribute commands and returns the value as stored: its
// comma-separated items trimmed, blank ones dropped ("" removes it).
func attributeValue(name, value string) (string, error) {
	if strings.TrimSpace(name) != name || strings.ContainsAny(name, " =") || len(name) > 64 {
		return "", fmt.Errorf("--name %q must be a plain name without spaces or '=' (at most 64 characters)", name)
	}
	if len(value) > 4096 {
		return "", errors.New("--value is longer than 4096 characters")
	}
	var items []string
	for _, v := range strings.Split(value, ",") {
		if v = strings.TrimSpace(v); v != "" {
			items = append(items, v)
		}
	}
	return strings.Join(items, ","), nil
}

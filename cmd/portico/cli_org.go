package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"portico/partners"
	"portico/store"
)

func runOrg(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "org", args, map[string]func(context.Context, *cli, []string) error{
		"create":          runOrgCreate,
		"update":          runOrgUpdate,
		"client-metadata": runOrgClientMetadata,
		"list":            runOrgList,
		"show":            runOrgShow,
		"set-attribute":   runOrgSetAttribute,
	})
}

// orgJSON is an organization as the CLI prints it.
type orgJSON struct {
	ID         string     `json:"id"`
	Slug       string     `json:"slug"`
	Name       string     `json:"name"`
	Domains    []string   `json:"domains"`
	Status     string     `json:"status"`
	Plan       string     `json:"plan,omitempty"`
	ValidFrom  *time.Time `json:"valid_from,omitempty"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	RequireMFA bool       `json:"require_mfa"`
	// RequirePasskey: members must sign in with a passkey.
	RequirePasskey bool `json:"require_passkey"`
	// Attributes are what param_in_attribute conditions with "of": "org" read.
	Attributes map[string]string `json:"attributes"`
	CreatedAt  time.Time         `json:"created_at"`
}

func toOrgJSON(o store.Organization, planSlugs map[string]string) orgJSON {
	j := orgJSON{ID: o.ID, Slug: o.Slug, Name: o.Name, Domains: o.Domains, Status: string(o.Status), CreatedAt: o.CreatedAt,
		Plan: planSlugs[o.PlanID], RequireMFA: o.RequireMFA, RequirePasskey: o.RequirePasskey, Attributes: o.Attributes}
	if j.Attributes == nil {
		j.Attributes = map[string]string{}
	}
	if j.Domains == nil {
		j.Domains = []string{}
	}
	if !o.ValidFrom.IsZero() {
		j.ValidFrom = &o.ValidFrom
	}
	if !o.ValidUntil.IsZero() {
		j.ValidUntil = &o.ValidUntil
	}
	return j
}

// planSlugs maps plan IDs to slugs, read once for any number of
// organizations.
func planSlugs(ctx context.Context, st *store.Store) (map[string]string, error) {
	plans, err := st.Plans(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(plans))
	for _, p := range plans {
		m[p.ID] = p.Slug
	}
	return m, nil
}

func (j orgJSON) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) id=%s status=%s", j.Slug, j.Name, j.ID, j.Status)
	if len(j.Domains) > 0 {
		fmt.Fprintf(&b, " domains=%s", strings.Join(j.Domains, ","))
	}
	if j.Plan != "" {
		fmt.Fprintf(&b, " plan=%s", j.Plan)
	}
	if j.ValidUntil != nil {
		fmt.Fprintf(&b, " valid_until=%s", j.ValidUntil.Format(time.RFC3339))
	}
	for _, k := range slices.Sorted(maps.Keys(j.Attributes)) {
		fmt.Fprintf(&b, " attr.%s=%s", k, j.Attributes[k])
	}
	if j.RequireMFA {
		b.WriteString(" require_mfa=true")
	}
	if j.RequirePasskey {
		b.WriteString(" require_passkey=true")
	}
	return b.String()
}

// parseWhen reads a time flag: RFC 3339, or a date (midnight UTC); "none"
// clears the bound.
func parseWhen(flag, v string) (time.Time, error) {
	if v == "none" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q is neither RFC 3339 (2026-12-31T23:59:59Z) nor a date (2026-12-31)", flag, v)
}

// orgFlags are the flags shared by create and update.
type orgFlags struct {
	slug, name, plan, status, validFrom, validUntil, requireMFA, requirePasskey *string
	domains                                                                     multiFlag
}

func (c *cli) orgInput(f *orgFlags, set func(string) bool) (partners.OrgInput, error) {
	var in partners.OrgInput
	if set("name") {
		in.Name = f.name
	}
	if set("domain") {
		d := []string(f.domains)
		in.Domains = &d
	}
	if set("plan") {
		in.PlanSlug = f.plan
	}
	if set("status") {
		st := store.OrgStatus(*f.status)
		in.Status = &st
	}
	var errs []string
	if set("valid-from") {
		t, err := parseWhen("valid-from", *f.validFrom)
		if err != nil {
			errs = append(errs, err.Error())
		}
		in.ValidFrom = &t
	}
	if set("valid-until") {
		t, err := parseWhen("valid-until", *f.validUntil)
		if err != nil {
			errs = append(errs, err.Error())
		}
		in.ValidUntil = &t
	}
	if set("require-mfa") {
		switch *f.requireMFA {
		case "true", "false":
			v := *f.requireMFA == "true"
			in.RequireMFA = &v
		default:
			errs = append(errs, fmt.Sprintf("--require-mfa %q is neither true nor false", *f.requireMFA))
		}
	}
	if set("require-passkey") {
		switch *f.requirePasskey {
		case "true", "false":
			v := *f.requirePasskey == "true"
			in.RequirePasskey = &v
		default:
			errs = append(errs, fmt.Sprintf("--require-passkey %q is neither true nor false", *f.requirePasskey))
		}
	}
	if len(errs) > 0 {
		return in, errors.New(strings.Join(errs, "; "))
	}
	return in, nil
}

func runOrgCreate(ctx context.Context, c *cli, args []string) error {
	return orgWrite(ctx, c, "create", args)
}
func runOrgUpdate(ctx context.Context, c *cli, args []string) error {
	return orgWrite(ctx, c, "update", args)
}

func orgWrite(ctx context.Context, c *cli, verb string, args []string) error {
	cmd := c.storeFlags("org " + verb)
	fs := cmd.fs
	f := &orgFlags{
		slug:           fs.String("slug", "", "organization slug (required)"),
		name:           fs.String("name", "", "display name"),
		plan:           fs.String("plan", "", "plan slug (\"\" for none)"),
		status:         fs.String("status", "", "active or suspended"),
		validFrom:      fs.String("valid-from", "", "partnership start (RFC 3339 or date; none to clear)"),
		validUntil:     fs.String("valid-until", "", "partnership end (RFC 3339 or date; none to clear)"),
		requireMFA:     fs.String("require-mfa", "", "true: everyone enrols a second factor at first sign-in"),
		requirePasskey: fs.String("require-passkey", "", "true: members sign in with a passkey (no TOTP, no password-only)"),
	}
	fs.Var(&f.domains, "domain", "email domain (repeatable; replaces the list)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *f.slug == "" {
		return errors.New("--slug is required")
	}
	in, err := c.orgInput(f, func(n string) bool { return usedFlag(fs, n) })
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, *cmd.db)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &partners.Service{Store: st, Now: c.now}
	actor := store.Actor{Label: cliActor}
	var o store.Organization
	if verb == "create" {
		in.Slug = f.slug
		o, err = svc.CreateOrg(ctx, actor, in)
	} else {
		o, err = svc.UpdateOrg(ctx, actor, *f.slug, in)
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no organization %q", *f.slug)
	}
	if err != nil {
		return err
	}
	return showOrg(ctx, c, st, *cmd.asJSON, o)
}

// showOrg prints one organization.
func showOrg(ctx context.Context, c *cli, st *store.Store, asJSON bool, o store.Organization) error {
	plans, err := planSlugs(ctx, st)
	if err != nil {
		return err
	}
	j := toOrgJSON(o, plans)
	return c.output(asJSON, j, j.human())
}

func runOrgList(ctx context.Context, c *cli, args []string) error {
	cmd := c.storeFlags("org list")
	pf := addPageFlags(cmd.fs, 100, "name starts with this (or whose slug is this)")
	st, err := cmd.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := pf.page()
	if err != nil {
		return err
	}
	orgs, info, err := st.OrganizationPage(ctx, page)
	if err != nil {
		return err
	}
	c.notePage(info)
	plans, err := planSlugs(ctx, st)
	if err != nil {
		return err
	}
	out := make([]orgJSON, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, toOrgJSON(o, plans))
	}
	return outputList(c, *cmd.asJSON, out)
}

func runOrgShow(ctx context.Context, c *cli, args []string) error {
	cmd := c.storeFlags("org show")
	slug := cmd.fs.String("slug", "", "organization slug (required)")
	st, err := cmd.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := st.OrganizationBySlug(ctx, *slug)
	if err != nil {
		return fmt.Errorf("no organization %q", *slug)
	}
	return showOrg(ctx, c, st, *cmd.asJSON, o)
}

// runOrgSetAttribute sets (or, with an empty --value, removes) one of an
// organization's attributes: what param_in_attribute conditions with
// "of": "org" read. A list is comma-separated: --value eu,us.
func runOrgSetAttribute(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("org set-attribute")
	f := c.fedFlags(fs)
	slug := fs.String("slug", "", "organization slug (required)")
	name := fs.String("name", "", "attribute name, e.g. regions (required)")
	value := fs.String("value", "", "value; a list is comma-separated (a,b); empty removes the attribute")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *slug == "" || *name == "" {
		return errors.New("--slug and --name are required")
	}
	items, err := attributeValue(*name, *value)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, *f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := orgBySlug(ctx, st, *slug)
	if err != nil {
		return err
	}
	err = st.InTx(ctx, func(tx *store.Store) error {
		before, after, err := tx.UpdateOrganization(ctx, o.ID, func(x *store.Organization) error {
			if x.Attributes == nil {
				x.Attributes = map[string]string{}
			}
			if items == "" {
				delete(x.Attributes, *name)
			} else {
				x.Attributes[*name] = items
			}
			return nil
		})
		if err != nil {
			return err
		}
		e := store.Actor{Label: cliActor}.Event(o.ID, "org.attribute", "organization", o.ID)
		return tx.Audit(ctx, e, map[string]string{*name: before.Attributes[*name]}, map[string]string{*name: after.Attributes[*name]})
	})
	if err != nil {
		return err
	}
	j := map[string]string{"org": o.Slug, "name": *name, "value": items}
	return c.output(*f.asJSON, j, fmt.Sprintf("%s: %s=%s", o.Slug, *name, items))
}

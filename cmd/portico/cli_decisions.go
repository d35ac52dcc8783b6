package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"portico/store"
)

func runDecisions(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "decisions", args, map[string]func(context.Context, *cli, []string) error{
		"list": runDecisionsList,
	})
}

// runDecisionsList prints the decision log, newest first.
func runDecisionsList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("decisions list")
	db := c.dbFlag(fs)
	org := fs.String("org", "", "only this organization (slug)")
	pf := addPageFlags(fs, 50, "")
	action := fs.String("action", "", "only permit, deny or challenge")
	client := fs.String("client", "", "only this client_id")
	user := fs.String("user", "", "only this user (ID or email)")
	since := fs.String("since", "", "only decisions at or after this time (RFC 3339 or date)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := pf.page()
	if err != nil {
		return err
	}
	f := store.DecisionFilter{Action: *action, ClientID: *client, User: *user}
	if *org != "" {
		o, err := st.OrganizationBySlug(ctx, *org)
		if err != nil {
			return fmt.Errorf("organization %q: %w", *org, err)
		}
		f.OrgID = o.ID
	}
	if *since != "" {
		if f.From, err = parseWhen("since", *since); err != nil {
			return err
		}
	}
	ds, info, err := st.DecisionPage(ctx, f, page)
	if err != nil {
		return err
	}
	c.notePage(info)
	if ds == nil {
		ds = []store.Decision{}
	}
	var b strings.Builder
	for _, d := range ds {
		rule := "default"
		if d.Rule > 0 {
			rule = fmt.Sprintf("rule %d", d.Rule)
		}
		fmt.Fprintf(&b, "%s %s %-9s %-18s %s client=%s policy=%q v%d %s: %s\n", d.At.Format(time.RFC3339), d.ID, d.Action,
			d.Point, d.Subject, d.ClientID, d.PolicyName, d.PolicyVersion, rule, d.Reason)
	}
	if len(ds) == 0 {
		b.WriteString("no decisions")
	}
	return c.output(*asJSON, ds, b.String())
}

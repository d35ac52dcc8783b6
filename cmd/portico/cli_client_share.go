package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"portico/store"
)

// runClientShare shares an app with every other organization (--all) or
// with the organizations on a plan (--plan), or withdraws a share
// (--unshare). Shared apps appear on those organizations' dashboards, and
// their people sign in to them as members of their own organization.
func runClientShare(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("client share")
	f := c.oauthFlags(fs)
	id := fs.String("client-id", "", "the app's client_id (required)")
	all := fs.Bool("all", false, "share with every organization")
	planSlug := fs.String("plan", "", "share with the organizations on this plan")
	unshare := fs.Bool("unshare", false, "withdraw the share named by --all or --plan")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if *all == (*planSlug != "") {
		return errors.New("name exactly one of --all and --plan")
	}
	env, err := c.openOAuth(ctx, f)
	if err != nil {
		return err
	}
	defer env.close()
	cl, err := env.clientByID(ctx, *id)
	if err != nil {
		return err
	}
	planID := ""
	if *planSlug != "" {
		p, err := env.st.PlanBySlug(ctx, *planSlug)
		if err != nil {
			return fmt.Errorf("no plan %q", *planSlug)
		}
		planID = p.ID
	}
	target := map[bool]string{true: "all organizations", false: "plan " + *planSlug}[*all]
	if *unshare {
		err = env.reg.Unshare(ctx, cl.OrgID, cl.ClientID, planID, cliOAuthActor)
	} else {
		err = env.reg.Share(ctx, cl.OrgID, cl.ClientID, planID, cliOAuthActor)
	}
	if errors.Is(err, store.ErrNotFound) && *unshare {
		return fmt.Errorf("%s is not shared with %s", cl.ClientID, target)
	}
	if err != nil {
		return err
	}
	shares, err := env.st.ClientShares(ctx, cl.OrgID, cl.ClientID)
	if err != nil {
		return err
	}
	with := []string{}
	for _, p := range shares {
		if p == "" {
			with = append(with, "all")
		} else if plan, err := env.st.Plan(ctx, p); err == nil {
			with = append(with, "plan:"+plan.Slug)
		}
	}
	out := map[string]any{"client_id": cl.ClientID, "shared_with": with}
	human := cl.ClientID + " is shared with: " + strings.Join(with, ", ")
	if len(with) == 0 {
		human = cl.ClientID + " is not shared"
	}
	return c.output(*f.asJSON, out, human)
}

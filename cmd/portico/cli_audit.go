package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func runAudit(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "audit", args, map[string]func(context.Context, *cli, []string) error{
		"list": runAuditList,
	})
}

// auditEventJSON is an audit event as the CLI prints it. store.AuditEvent
// has no JSON names of its own; this adds them, and the organization's slug
// beside its ID, since people name organizations by slug.
type auditEventJSON struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	OrgID      string          `json:"org_id,omitempty"` // empty: platform-wide
	OrgSlug    string          `json:"org_slug,omitempty"`
	ActorID    string          `json:"actor_id,omitempty"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

// runAuditList prints the audit log, newest first: every organization's
// (and the platform-wide changes) unless --org narrows it to one.
func runAuditList(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("audit list")
	db := c.dbFlag(fs)
	org := fs.String("org", "", "only this organization (slug)")
	pf := addPageFlags(fs, 50, "actor is this (an email, or cli)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	// The store quietly caps a bad limit; on the command line a typo
	// should say so instead.
	page, err := pf.page()
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	orgID := ""
	if *org != "" {
		o, err := st.OrganizationBySlug(ctx, *org)
		if err != nil {
			return fmt.Errorf("organization %q: %w", *org, err)
		}
		orgID = o.ID
	}
	events, info, err := st.AuditPage(ctx, orgID, page)
	if err != nil {
		return err
	}
	c.notePage(info)
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.OrgID
	}
	slugs, err := st.OrgSlugs(ctx, ids)
	if err != nil {
		return err
	}
	out := make([]auditEventJSON, 0, len(events))
	var b strings.Builder
	for _, e := range events {
		out = append(out, auditEventJSON{ID: e.ID, At: e.At, OrgID: e.OrgID, OrgSlug: slugs[e.OrgID], ActorID: e.ActorID,
			Actor: e.Actor, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Before: e.Before, After: e.After})
		where := slugs[e.OrgID]
		if where == "" {
			where = "-" // platform-wide
		}
		fmt.Fprintf(&b, "%s %s org=%s by=%s %s %s/%s\n", e.At.UTC().Format(time.RFC3339), e.ID, where, e.Actor,
			e.Action, e.TargetType, e.TargetID)
	}
	if len(events) == 0 {
		b.WriteString("no audit events")
	}
	return c.output(*asJSON, out, b.String())
}

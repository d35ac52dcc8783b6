package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"portico/partners"
	"portico/store"
)

func runMember(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "member", args, map[string]func(context.Context, *cli, []string) error{
		"invite":        runMemberInvite,
		"invitations":   runMemberInvitations,
		"revoke-invite": runMemberRevokeInvite,
		"list":          runMemberList,
		"role":          runMemberRole,
		"remove":        runMemberRemove,
	})
}

// storeCmd is what the org, plan, member and audit subcommands share: their
// flags with --db and --json, parsed, then the store opened.
type storeCmd struct {
	fs     *flag.FlagSet
	db     *string
	asJSON *bool
}

func (c *cli) storeFlags(name string) *storeCmd {
	fs := c.newFlags(name)
	return &storeCmd{fs: fs, db: c.dbFlag(fs), asJSON: fs.Bool("json", false, "print JSON")}
}

// open parses args and opens the store; the caller closes it.
func (s *storeCmd) open(ctx context.Context, c *cli, args []string) (*store.Store, error) {
	if err := s.fs.Parse(args); err != nil {
		return nil, err
	}
	return c.openStore(ctx, *s.db)
}

// outputList prints items as a JSON array, or one human line each.
func outputList[T interface{ human() string }](c *cli, asJSON bool, items []T) error {
	lines := make([]string, len(items))
	for i, it := range items {
		lines[i] = it.human()
	}
	if items == nil {
		items = []T{}
	}
	return c.output(asJSON, items, strings.Join(lines, "\n"))
}

// memberCmd is what every member subcommand shares: a storeCmd and the
// organization.
type memberCmd struct {
	*storeCmd
	org *string
}

func (c *cli) memberFlags(name string) *memberCmd {
	s := c.storeFlags("member " + name)
	return &memberCmd{storeCmd: s, org: s.fs.String("org", "", "organization slug (required)")}
}

// open parses args, opens the store and finds the organization.
func (m *memberCmd) open(ctx context.Context, c *cli, args []string) (*store.Store, store.Organization, error) {
	if err := m.fs.Parse(args); err != nil {
		return nil, store.Organization{}, err
	}
	if *m.org == "" {
		return nil, store.Organization{}, errors.New("--org is required")
	}
	st, err := c.openStore(ctx, *m.db)
	if err != nil {
		return nil, store.Organization{}, err
	}
	org, err := st.OrganizationBySlug(ctx, *m.org)
	if err != nil {
		st.Close()
		return nil, org, fmt.Errorf("no organization %q", *m.org)
	}
	return st, org, nil
}

// invitationJSON is a new invitation as the CLI prints it: the link is
// shown this once.
type invitationJSON struct {
	ID        string    `json:"id"`
	Org       string    `json:"org"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
	Link      string    `json:"link"`
}

func runMemberInvite(ctx context.Context, c *cli, args []string) error {
	m := c.memberFlags("invite")
	email := m.fs.String("email", "", "invitee's email (required)")
	role := m.fs.String("role", "member", "admin, developer or member")
	ttl := m.fs.Duration("ttl", partners.DefaultInviteTTL, "how long the link works (1h to 720h)")
	base := m.fs.String("base-url", c.getenv("PORTICO_ISSUER"), "the portal's public URL for the link (env PORTICO_ISSUER)")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &partners.Service{Store: st, Now: c.now}
	inv, err := svc.Invite(ctx, partners.CLIManager(cliActor), org.ID, partners.InviteInput{Email: *email,
		Role: store.Role(*role), TTL: *ttl})
	if err != nil {
		return err
	}
	j := invitationJSON{ID: inv.Invitation.ID, Org: org.Slug, Email: inv.Invitation.Email, Role: string(inv.Invitation.Role),
		ExpiresAt: inv.Invitation.ExpiresAt, Link: strings.TrimRight(*base, "/") + "/invite/" + inv.Token}
	human := fmt.Sprintf("Invitation for %s to %s as %s, valid until %s UTC. Send this link (shown only now):\n%s",
		j.Email, org.Slug, j.Role, j.ExpiresAt.UTC().Format("2006-01-02 15:04"), j.Link)
	return c.output(*m.asJSON, j, human)
}

func runMemberList(ctx context.Context, c *cli, args []string) error {
	m := c.memberFlags("list")
	pf := addPageFlags(m.fs, 100, "name or email starts with this")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := pf.page()
	if err != nil {
		return err
	}
	users, info, err := st.MemberPage(ctx, org.ID, page)
	if err != nil {
		return err
	}
	c.notePage(info)
	out := []partners.Member{}
	var lines []string
	for _, u := range users {
		out = append(out, partners.MemberOf(u))
		lines = append(lines, fmt.Sprintf("%s %s (%s) role=%s", u.ID, u.Email, u.Name, u.Role))
	}
	return c.output(*m.asJSON, out, strings.Join(lines, "\n"))
}

// member finds a member of org by email.
func member(ctx context.Context, st *store.Store, org store.Organization, email string) (store.User, error) {
	u, err := st.UserByEmail(ctx, org.ID, email)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("%s has no member %q", org.Slug, email)
	}
	return u, err
}

func runMemberRole(ctx context.Context, c *cli, args []string) error {
	m := c.memberFlags("role")
	email := m.fs.String("email", "", "member's email (required)")
	role := m.fs.String("role", "", "admin, developer or member (required)")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := member(ctx, st, org, *email)
	if err != nil {
		return err
	}
	svc := &partners.Service{Store: st, Now: c.now}
	after, err := svc.ChangeRole(ctx, partners.CLIManager(cliActor), org.ID, u.ID, store.Role(*role))
	if err != nil {
		return err
	}
	return c.output(*m.asJSON, after, fmt.Sprintf("%s is now %s in %s", after.Email, after.Role, org.Slug))
}

func runMemberRemove(ctx context.Context, c *cli, args []string) error {
	m := c.memberFlags("remove")
	email := m.fs.String("email", "", "member's email (required)")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := member(ctx, st, org, *email)
	if err != nil {
		return err
	}
	svc := &partners.Service{Store: st, Now: c.now}
	if err := svc.RemoveMember(ctx, partners.CLIManager(cliActor), org.ID, u.ID); err != nil {
		return err
	}
	gone := partners.MemberOf(u)
	return c.output(*m.asJSON, map[string]any{"removed": gone}, fmt.Sprintf("removed %s from %s; their sessions and tokens ended", u.Email, org.Slug))
}

func runMemberInvitations(ctx context.Context, c *cli, args []string) error {
	m := c.memberFlags("invitations")
	pf := addPageFlags(m.fs, 100, "email starts with this")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := pf.page()
	if err != nil {
		return err
	}
	invs, info, err := st.InvitationPage(ctx, org.ID, page)
	if err != nil {
		return err
	}
	c.notePage(info)
	type row struct {
		store.Invitation
		State string `json:"state"`
	}
	out := []row{}
	var lines []string
	now := c.now()
	for _, i := range invs {
		out = append(out, row{Invitation: i, State: i.State(now)})
		lines = append(lines, fmt.Sprintf("%s %s role=%s %s expires=%s", i.ID, i.Email, i.Role, i.State(now),
			i.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	return c.output(*m.asJSON, out, strings.Join(lines, "\n"))
}

func runMemberRevokeInvite(ctx context.Context, c *cli, args []string) error {
	m := c.memberFlags("revoke-invite")
	id := m.fs.String("id", "", "invitation ID (required; see member invitations)")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &partners.Service{Store: st, Now: c.now}
	err = svc.RevokeInvitation(ctx, partners.CLIManager(cliActor), org.ID, *id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s has no invitation %q", org.Slug, *id)
	}
	if err != nil {
		return err
	}
	return c.output(*m.asJSON, map[string]string{"revoked": *id}, "revoked invitation "+*id)
}

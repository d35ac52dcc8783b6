package main

import (
	"context"
	"errors"
	"fmt"

	"portico/partners"
	"portico/store"
)

func runGroup(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "group", args, map[string]func(context.Context, *cli, []string) error{
		"create":        runGroupCreate,
		"list":          runGroupList,
		"delete":        runGroupDelete,
		"add-member":    runGroupAddMember,
		"remove-member": runGroupRemoveMember,
		"members":       runGroupMembers,
	})
}

func (c *cli) groupFlags(name string) *memberCmd {
	s := c.storeFlags("group " + name)
	return &memberCmd{storeCmd: s, org: s.fs.String("org", "", "organization slug (required)")}
}

type groupJSON struct {
	partners.GroupView
	Org string `json:"org"`
}

func (j groupJSON) human() string {
	return fmt.Sprintf("%s\t%s\t%d member(s)\t%s", j.Name, j.Source, j.Members, j.ID)
}

func toGroupJSON(g store.Group, org store.Organization) groupJSON {
	return groupJSON{GroupView: partners.ViewOf(g), Org: org.Slug}
}

// groupCmd opens the store and finds the group named by --name.
func groupCmd(ctx context.Context, c *cli, m *memberCmd, name *string, args []string) (*store.Store, store.Organization, store.Group, error) {
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return nil, org, store.Group{}, err
	}
	if *name == "" {
		st.Close()
		return nil, org, store.Group{}, errors.New("--name is required")
	}
	svc := &partners.Service{Store: st, Now: c.now}
	g, err := svc.GroupByName(ctx, partners.CLIManager(cliActor), org.ID, *name)
	if err != nil {
		st.Close()
		return nil, org, g, fmt.Errorf("no group %q in %s", *name, org.Slug)
	}
	return st, org, g, nil
}

func runGroupCreate(ctx context.Context, c *cli, args []string) error {
	m := c.groupFlags("create")
	name := m.fs.String("name", "", "group name (required)")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	g, err := (&partners.Service{Store: st, Now: c.now}).CreateGroup(ctx, partners.CLIManager(cliActor), org.ID, *name)
	if err != nil {
		return err
	}
	j := toGroupJSON(g, org)
	return c.output(*m.asJSON, j, j.human())
}

func runGroupList(ctx context.Context, c *cli, args []string) error {
	m := c.groupFlags("list")
	st, org, err := m.open(ctx, c, args)
	if err != nil {
		return err
	}
	defer st.Close()
	gs, err := (&partners.Service{Store: st, Now: c.now}).Groups(ctx, partners.CLIManager(cliActor), org.ID)
	if err != nil {
		return err
	}
	var out []groupJSON
	for _, g := range gs {
		out = append(out, toGroupJSON(g, org))
	}
	return outputList(c, *m.asJSON, out)
}

func runGroupDelete(ctx context.Context, c *cli, args []string) error {
	m := c.groupFlags("delete")
	name := m.fs.String("name", "", "group name (required)")
	st, org, g, err := groupCmd(ctx, c, m, name, args)
	if err != nil {
		return err
	}
	defer st.Close()
	return (&partners.Service{Store: st, Now: c.now}).DeleteGroup(ctx, partners.CLIManager(cliActor), org.ID, g.ID)
}

func runGroupAddMember(ctx context.Context, c *cli, args []string) error {
	return groupMembership(ctx, c, "add-member", args, true)
}

func runGroupRemoveMember(ctx context.Context, c *cli, args []string) error {
	return groupMembership(ctx, c, "remove-member", args, false)
}

func groupMembership(ctx context.Context, c *cli, sub string, args []string, add bool) error {
	m := c.groupFlags(sub)
	name := m.fs.String("name", "", "group name (required)")
	email := m.fs.String("email", "", "member's email (required)")
	st, org, g, err := groupCmd(ctx, c, m, name, args)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := &partners.Service{Store: st, Now: c.now}
	if add {
		_, err = svc.AddGroupMember(ctx, partners.CLIManager(cliActor), org.ID, g.ID, *email)
	} else {
		_, err = svc.RemoveGroupMember(ctx, partners.CLIManager(cliActor), org.ID, g.ID, *email)
	}
	return err
}

type groupMemberJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

func (j groupMemberJSON) human() string { return j.Email + "\t" + j.Name }

func runGroupMembers(ctx context.Context, c *cli, args []string) error {
	m := c.groupFlags("members")
	name := m.fs.String("name", "", "group name (required)")
	st, org, g, err := groupCmd(ctx, c, m, name, args)
	if err != nil {
		return err
	}
	defer st.Close()
	_, users, err := (&partners.Service{Store: st, Now: c.now}).Group(ctx, partners.CLIManager(cliActor), org.ID, g.ID)
	if err != nil {
		return err
	}
	var out []groupMemberJSON
	for _, u := range users {
		out = append(out, groupMemberJSON{ID: u.ID, Email: u.Email, Name: u.Name})
	}
	return outputList(c, *m.asJSON, out)
}

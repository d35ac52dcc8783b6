package handlers

import (
	"context"
	"net/url"

	"portico/store"
	"portico/views"
)

// hubListMax bounds each list on an organization's page; the full list is
// one link away.
const hubListMax = 10

// orgHub gathers what an organization's page shows a platform admin about
// it: members and invitations, groups, sign-in connections, its apps and
// the apps shared with it, the policies on its apps, and its latest
// decisions. Every link goes to the organization's own pages with ?org=
// (see orgScope), which work for the platform admin on that organization.
func (h *Orgs) orgHub(ctx context.Context, o store.Organization) (*views.OrgHub, error) {
	hub := &views.OrgHub{Slug: o.Slug, OrgID: o.ID, Q: "?org=" + url.QueryEscape(o.Slug)}
	users, info, err := h.Store.MemberPage(ctx, o.ID, store.Page{Limit: hubListMax})
	if err != nil {
		return nil, err
	}
	hub.MoreMembers = info.Next != ""
	for _, u := range users {
		hub.Members = append(hub.Members, views.HubMember{Name: u.Name, Email: u.Email, Role: string(u.Role)})
	}
	invs, info, err := h.Store.InvitationPage(ctx, o.ID, store.Page{Limit: hubListMax})
	if err != nil {
		return nil, err
	}
	hub.MoreInvitations = info.Next != ""
	now := h.Now()
	for _, i := range invs {
		hub.Invitations = append(hub.Invitations, views.HubInvitation{Email: i.Email, Role: string(i.Role), State: i.State(now)})
	}
	groups, err := h.Store.Groups(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		hub.Groups = append(hub.Groups, views.GroupRow{ID: g.ID, Name: g.Name, Source: string(g.Source), Members: g.Members})
	}
	conns, err := h.Store.Connections(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	for _, x := range conns {
		hub.Connections = append(hub.Connections, views.ConnectionRow{ID: x.ID, Name: x.Name, TypeLabel: x.Type, Enabled: x.Enabled})
	}
	allowed, restricted, err := h.Store.AllowedConnectionTypes(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	hub.TypesRestricted, hub.AllowedTypes = restricted, allowed
	apps, err := h.Store.Clients(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	shared, err := h.Store.SharedClients(ctx, o.ID, o.PlanID)
	if err != nil {
		return nil, err
	}
	owners := make([]string, len(shared))
	for i, cl := range shared {
		owners[i] = cl.OrgID
	}
	slugs, err := h.Store.OrgSlugs(ctx, owners)
	if err != nil {
		return nil, err
	}
	policies, err := h.Store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	policyName := map[string]string{}
	for _, p := range policies {
		policyName[p.ID] = p.Name
	}
	row := func(cl store.Client, owner string) views.HubApp {
		return views.HubApp{ClientID: cl.ClientID, Name: cl.Name, Type: string(cl.Type), Enabled: cl.Enabled,
			OwnerSlug: owner, PolicyID: cl.PolicyID, PolicyName: policyName[cl.PolicyID]}
	}
	for _, cl := range apps {
		hub.Apps = append(hub.Apps, row(cl, o.Slug))
	}
	for _, cl := range shared {
		hub.SharedApps = append(hub.SharedApps, row(cl, slugs[cl.OrgID]))
	}
	ds, _, err := h.Store.DecisionPage(ctx, store.DecisionFilter{OrgID: o.ID, Limit: hubListMax}, store.Page{Limit: hubListMax})
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		hub.Decisions = append(hub.Decisions, decisionRow(d, map[string]string{o.ID: o.Slug}))
	}
	return hub, nil
}

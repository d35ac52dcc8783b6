package adminapi

import (
	"net/http"
	"strings"
	"time"

	"portico/partners"
	"portico/store"
)

// RoleBody changes a member's role.
type RoleBody struct {
	Role string `json:"role"`
}

// Invitation is an invitation as lists show it.
type Invitation struct {
	store.Invitation
	State string `json:"state"`
}

// InvitationBody invites someone: role admin, developer or member;
// expires_in_hours from 1 to 720 (default 168).
type InvitationBody struct {
	Email          string `json:"email"`
	Role           string `json:"role,omitempty"`
	ExpiresInHours int    `json:"expires_in_hours,omitempty"`
}

// NewInvitationOut is a created invitation with its link, shown only in
// this answer.
type NewInvitationOut struct {
	Invitation
	Link string `json:"link"`
}

func (a *API) listMembers(c *call) error {
	page, err := c.page()
	if err != nil {
		return err
	}
	users, info, err := a.cfg.Store.MemberPage(c.ctx(), c.org.ID, page)
	if err != nil {
		return err
	}
	out := make([]partners.Member, 0, len(users))
	for _, u := range users {
		out = append(out, partners.MemberOf(u))
	}
	return list(c, out, info)
}

// member loads :id through the organization: another organization's user
// is not found.
func (a *API) member(c *call) (store.User, error) {
	u, err := a.cfg.Store.User(c.ctx(), c.org.ID, c.Param("id"))
	if err != nil {
		return u, err
	}
	return u, nil
}

func (a *API) getMember(c *call) error {
	u, err := a.member(c)
	if err != nil {
		return err
	}
	return c.withETag(partners.MemberOf(u))
}

func (a *API) changeRole(c *call) error {
	var b RoleBody
	if err := c.bind(&b); err != nil {
		return err
	}
	var m partners.Member
	err := a.exclusive(c, func(tx *API) error {
		u, err := tx.member(c)
		if err != nil {
			return err
		}
		if err := c.ifMatch(partners.MemberOf(u)); err != nil {
			return err
		}
		m, err = tx.partners.ChangeRole(c.ctx(), c.manager(), c.org.ID, u.ID, store.Role(b.Role))
		return err
	})
	if err != nil {
		return err
	}
	return c.withETag(m)
}

func (a *API) removeMember(c *call) error {
	u, err := a.member(c)
	if err != nil {
		return err
	}
	if err := a.partners.RemoveMember(c.ctx(), c.manager(), c.org.ID, u.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) listInvitations(c *call) error {
	page, err := c.page()
	if err != nil {
		return err
	}
	invs, info, err := a.cfg.Store.InvitationPage(c.ctx(), c.org.ID, page)
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	out := make([]Invitation, 0, len(invs))
	for _, i := range invs {
		out = append(out, Invitation{Invitation: i, State: i.State(now)})
	}
	return list(c, out, info)
}

func (a *API) createInvitation(c *call) error {
	var b InvitationBody
	if err := c.bind(&b); err != nil {
		return err
	}
	role := store.Role(b.Role)
	if role == "" {
		role = store.RoleMember
	}
	inv, err := a.partners.Invite(c.ctx(), c.manager(), c.org.ID, partners.InviteInput{Email: b.Email, Role: role,
		TTL: time.Duration(b.ExpiresInHours) * time.Hour})
	if err != nil {
		return err
	}
	out := NewInvitationOut{Invitation: Invitation{Invitation: inv.Invitation, State: inv.Invitation.State(a.cfg.Now())},
		Link: strings.TrimRight(a.cfg.Issuer, "/") + "/invite/" + inv.Token}
	return c.created("/orgs/"+c.org.Slug+"/invitations/"+inv.Invitation.ID, out)
}

func (a *API) revokeInvitation(c *call) error {
	if err := a.partners.RevokeInvitation(c.ctx(), c.manager(), c.org.ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

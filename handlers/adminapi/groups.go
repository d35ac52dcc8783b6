package adminapi

import (
	"errors"
	"net/http"

	"portico/partners"
	"portico/store"
)

// GroupBody creates a local group.
type GroupBody struct {
	Name string `json:"name"`
}

func (a *API) listGroups(c *call) error {
	gs, err := a.partners.Groups(c.ctx(), c.manager(), c.org.ID)
	if err != nil {
		return err
	}
	out := make([]partners.GroupView, 0, len(gs))
	for _, g := range gs {
		out = append(out, partners.ViewOf(g))
	}
	return list(c, out, store.PageInfo{})
}

func (a *API) createGroup(c *call) error {
	var b GroupBody
	if err := c.bind(&b); err != nil {
		return err
	}
	g, err := a.partners.CreateGroup(c.ctx(), c.manager(), c.org.ID, b.Name)
	if err != nil {
		return err
	}
	return c.created("/orgs/"+c.org.Slug+"/groups/"+g.ID, partners.ViewOf(g))
}

func (a *API) deleteGroup(c *call) error {
	if err := a.partners.DeleteGroup(c.ctx(), c.manager(), c.org.ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) groupMembers(c *call) error {
	_, users, err := a.partners.Group(c.ctx(), c.manager(), c.org.ID, c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]partners.Member, 0, len(users))
	for _, u := range users {
		out = append(out, partners.MemberOf(u))
	}
	return list(c, out, store.PageInfo{})
}

// memberEmail reads :user, a member's ID or email, as the email the
// service takes. An ID is looked up in the organization only.
func (a *API) memberEmail(c *call) (string, error) {
	v := c.Param("user")
	u, err := a.cfg.Store.User(c.ctx(), c.org.ID, v)
	if errors.Is(err, store.ErrNotFound) {
		return v, nil
	}
	return u.Email, err
}

func (a *API) changeGroupMember(add bool) func(c *call) error {
	return func(c *call) error {
		email, err := a.memberEmail(c)
		if err != nil {
			return err
		}
		var u store.User
		if add {
			u, err = a.partners.AddGroupMember(c.ctx(), c.manager(), c.org.ID, c.Param("id"), email)
		} else {
			u, err = a.partners.RemoveGroupMember(c.ctx(), c.manager(), c.org.ID, c.Param("id"), email)
		}
		if err != nil {
			return err
		}
		return c.json(http.StatusOK, partners.MemberOf(u))
	}
}

package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/store"
	"portico/views"
)

// Groups serves an org admin's groups pages: the organization's groups by
// source, creating and deleting local ones, and their members. Everything
// works on the viewer's own organization through org-scoped store methods,
// so another organization's group IDs answer 404.
type Groups struct {
	Store    *store.Store
	Partners *partners.Service
	Pages    *Pages
}

// Mount registers the routes, all for org admins.
func (h *Groups) Mount(g *echo.Group) {
	h.Pages.AddNav("Groups", "/org/groups", orgAdmins)
	a := g.Group("/org/groups", requireUser, requireRole(orgAdmins))
	a.GET("", h.list)
	a.POST("", h.create)
	a.GET("/:id", h.show)
	a.POST("/:id/delete", h.delete)
	a.POST("/:id/add-member", h.addMember)
	a.POST("/:id/remove-member", h.removeMember)
}

var groupFlash = map[string]string{
	"created": "The group was created.",
	"deleted": "The group was deleted; its members lost it at once.",
	"added":   "The member was added.",
	"removed": "The member was removed from the group.",
}

func (h *Groups) render(c echo.Context, status int, props views.GroupsProps) error {
	v := viewerFrom(c)
	gs, err := h.Partners.Groups(c.Request().Context(), managerOf(v), v.Org.ID)
	if err != nil {
		return partnersError(err)
	}
	props.OrgName = v.Org.Name
	for _, g := range gs {
		props.Groups = append(props.Groups, views.GroupRow{ID: g.ID, Name: g.Name, Source: string(g.Source), Members: g.Members})
	}
	p := h.Pages.Page(c, "Groups")
	p.Flash = doneFlash(c, groupFlash)
	return render(c, status, views.Groups(p, props))
}

func (h *Groups) list(c echo.Context) error { return h.render(c, http.StatusOK, views.GroupsProps{}) }

func (h *Groups) create(c echo.Context) error {
	v := viewerFrom(c)
	name := strings.TrimSpace(c.FormValue("name"))
	_, err := h.Partners.CreateGroup(c.Request().Context(), managerOf(v), v.Org.ID, name)
	if errs, ok := asFieldErrors(err); ok {
		return h.render(c, http.StatusUnprocessableEntity, views.GroupsProps{NewName: name, Errors: errs})
	}
	if err != nil {
		return partnersError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/org/groups?done=created")
}

func (h *Groups) delete(c echo.Context) error {
	v := viewerFrom(c)
	err := h.Partners.DeleteGroup(c.Request().Context(), managerOf(v), v.Org.ID, c.Param("id"))
	if errs, ok := asFieldErrors(err); ok {
		return h.render(c, http.StatusUnprocessableEntity, views.GroupsProps{Errors: errs})
	}
	if err != nil {
		return partnersError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/org/groups?done=deleted")
}

func (h *Groups) renderGroup(c echo.Context, status int, props views.GroupProps) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	g, members, err := h.Partners.Group(ctx, managerOf(v), v.Org.ID, c.Param("id"))
	if err != nil {
		return partnersError(err)
	}
	props.ID, props.Name, props.Source, props.Editable = g.ID, g.Name, string(g.Source), partners.Editable(g)
	in := map[string]bool{}
	for _, u := range members {
		in[u.ID] = true
		props.Members = append(props.Members, views.GroupMemberRow{ID: u.ID, Name: u.Name, Email: u.Email})
	}
	if props.Editable {
		users, err := h.Store.Users(ctx, v.Org.ID)
		if err != nil {
			return err
		}
		for _, u := range users {
			if !in[u.ID] {
				props.Candidates = append(props.Candidates, u.Email)
			}
		}
	}
	p := h.Pages.Page(c, "Group "+g.Name)
	p.Flash = doneFlash(c, groupFlash)
	return render(c, status, views.GroupPage(p, props))
}

func (h *Groups) show(c echo.Context) error {
	return h.renderGroup(c, http.StatusOK, views.GroupProps{})
}

func (h *Groups) addMember(c echo.Context) error {
	v := viewerFrom(c)
	email := strings.TrimSpace(c.FormValue("email"))
	_, err := h.Partners.AddGroupMember(c.Request().Context(), managerOf(v), v.Org.ID, c.Param("id"), email)
	return h.membershipResult(c, err, email, "added")
}

func (h *Groups) removeMember(c echo.Context) error {
	v := viewerFrom(c)
	_, err := h.Partners.RemoveGroupMember(c.Request().Context(), managerOf(v), v.Org.ID, c.Param("id"), c.FormValue("email"))
	return h.membershipResult(c, err, "", "removed")
}

func (h *Groups) membershipResult(c echo.Context, err error, email, done string) error {
	if errs, ok := asFieldErrors(err); ok {
		return h.renderGroup(c, http.StatusUnprocessableEntity, views.GroupProps{AddEmail: email, Errors: errs})
	}
	if err != nil {
		return partnersError(err)
	}
	return c.Redirect(http.StatusSeeOther, "/org/groups/"+c.Param("id")+"?done="+done)
}

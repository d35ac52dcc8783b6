package handlers

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"portico/partners"
	"portico/store"
	"portico/views"
)

// Members serves an org admin's members page: members and roles, and
// invitations. Everything works on the viewer's own organization, never on
// one named in the request, and members are loaded through org-scoped store
// methods, so another organization's user IDs answer 404.
type Members struct {
	Store    *store.Store
	Partners *partners.Service
	Pages    *Pages
	Now      func() time.Time
	Issuer   string // base of invitation links
	// Mailer sends invitation links; nil shows them to the inviter only.
	Mailer partners.Mailer
	Log    *slog.Logger
	// Sealer holds a new invitation's link for its one-time reveal
	// (reveal.go); nil shows it on the answer to the POST.
	Sealer *store.Sealer
}

// Mount registers the routes, all for org admins.
func (h *Members) Mount(g *echo.Group) {
	h.Pages.AddNav("Members", "/org/members", orgAdmins)
	a := g.Group("/org", requireUser, requireRole(orgAdmins))
	a.GET("/members", h.list)
	a.POST("/members/:id/role", h.changeRole)
	a.POST("/members/:id/remove", h.remove)
	a.POST("/invitations", h.invite)
	a.POST("/invitations/:id/revoke", h.revokeInvite)
}

var memberFlash = map[string]string{
	"role":    "The role was changed.",
	"removed": "The member was removed and signed out everywhere.",
	"revoked": "The invitation was revoked.",
}

// membersPage fills in the page's lists around props.
func (h *Members) membersPage(c echo.Context, v *Viewer, props views.MembersProps) (views.MembersProps, error) {
	ctx := c.Request().Context()
	page := pageOf(c)
	users, info, err := h.Store.MemberPage(ctx, v.Org.ID, page)
	if err != nil {
		return props, err
	}
	invs, invInfo, err := h.Store.InvitationPage(ctx, v.Org.ID, pageNamed(c, "inv_"))
	if err != nil {
		return props, err
	}
	props.Q = page.Q
	props.Pager = pagerOf(c, "/org/members", info)
	props.InvitePager = pagerNamed(c, "/org/members", "inv_", invInfo)
	m := managerOf(v)
	props.OrgName = v.Org.Name
	if props.Invite.Role == "" {
		props.Invite.Role = string(store.RoleMember) // the least privileged role unless chosen
	}
	for _, r := range m.Grantable() {
		props.Roles = append(props.Roles, string(r))
	}
	for _, u := range users {
		props.Members = append(props.Members, views.MemberRow{ID: u.ID, Name: u.Name, Email: u.Email,
			Role: string(u.Role), PlatformAdmin: u.PlatformAdmin, Manageable: m.MayChange(u), HasPassword: u.PasswordHash != "", Groups: u.Groups(),
			Attributes: attributeLines(u.Attributes)})
	}
	now := h.Now()
	for _, i := range invs {
		props.Invitations = append(props.Invitations, views.InviteRow{ID: i.ID, Email: i.Email, Role: string(i.Role),
			State: i.State(now), Expires: i.ExpiresAt.UTC().Format("2006-01-02 15:04")})
	}
	return props, nil
}

func (h *Members) render(c echo.Context, status int, props views.MembersProps) error {
	v := viewerFrom(c)
	props, err := h.membersPage(c, v, props)
	if err != nil {
		return err
	}
	p := h.Pages.Page(c, "Members")
	p.Flash = doneFlash(c, memberFlash)
	return render(c, status, views.Members(p, props))
}

func (h *Members) list(c echo.Context) error {
	props := views.MembersProps{}
	if id := c.QueryParam("reveal"); id != "" {
		held, found, err := takeReveal(c, h.Store, h.Sealer, h.Now(), id)
		if err != nil {
			return err
		}
		if found && json.Unmarshal([]byte(held), &props.NewInvitation) != nil {
			found = false
		}
		props.RevealGone = !found
	}
	return h.render(c, http.StatusOK, props)
}

// memberResult turns a membership change's outcome into a response:
// success redirects, a refusal of the input re-renders with 422.
func (h *Members) memberResult(c echo.Context, err error, done string) error {
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/org/members?done="+done)
	}
	if errs, ok := asFieldErrors(err); ok {
		return h.render(c, http.StatusUnprocessableEntity, views.MembersProps{Errors: errs})
	}
	return partnersError(err)
}

func (h *Members) changeRole(c echo.Context) error {
	v := viewerFrom(c)
	_, err := h.Partners.ChangeRole(c.Request().Context(), managerOf(v), v.Org.ID, c.Param("id"), store.Role(c.FormValue("role")))
	return h.memberResult(c, err, "role")
}

func (h *Members) remove(c echo.Context) error {
	v := viewerFrom(c)
	err := h.Partners.RemoveMember(c.Request().Context(), managerOf(v), v.Org.ID, c.Param("id"))
	return h.memberResult(c, err, "removed")
}

func (h *Members) revokeInvite(c echo.Context) error {
	v := viewerFrom(c)
	err := h.Partners.RevokeInvitation(c.Request().Context(), managerOf(v), v.Org.ID, c.Param("id"))
	return h.memberResult(c, err, "revoked")
}

// invite creates an invitation. With a mailer, the link goes only to the
// invitee's inbox: showing it as well would put a working account link on
// a page anyone near the admin's screen can read. Without one, or when
// sending fails, the link is shown on the page this POST returns (it exists
// nowhere else, so it cannot wait for a redirect) for the admin to pass on.
func (h *Members) invite(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewerFrom(c)
	f := views.InviteForm{Email: strings.TrimSpace(c.FormValue("email")), Role: c.FormValue("role"), TTL: c.FormValue("ttl")}
	in := partners.InviteInput{Email: f.Email, Role: store.Role(f.Role)}
	errs := views.FieldErrors{}
	if f.TTL != "" {
		valid := false
		for _, t := range views.InviteTTLs {
			valid = valid || t.Value == f.TTL
		}
		d, _ := time.ParseDuration(f.TTL)
		if !valid {
			errs["ttl"] = "Choose one of the offered lifetimes."
		}
		in.TTL = d
	}
	if len(errs) == 0 {
		inv, err := h.Partners.Invite(ctx, managerOf(v), v.Org.ID, in)
		if err == nil {
			link := strings.TrimRight(h.Issuer, "/") + "/invite/" + inv.Token
			props := views.MembersProps{NewInvitation: views.NewInvitation{Link: link, Email: inv.Invitation.Email}}
			if h.Mailer != nil {
				if err := h.Mailer.SendInvitation(ctx, partners.InvitationMail{To: inv.Invitation.Email,
					OrgName: v.Org.Name, InvitedBy: v.User.Name, Role: inv.Invitation.Role, Link: link,
					ExpiresAt: inv.Invitation.ExpiresAt}); err != nil {
					// The invitation stands; the admin passes the link on by hand.
					h.Log.Error("sending invitation failed", "err", err, "invitation", inv.Invitation.ID)
					props.MailFailed = true
				} else {
					props.Mailed, props.Link = true, ""
					// Only now, with the link in the invitee's mailbox and
					// nowhere else, does accepting it prove the address.
					if err := h.Partners.InvitationMailed(ctx, managerOf(v), inv.Invitation); err != nil {
						h.Log.Error("recording the mailed invitation failed", "err", err, "invitation", inv.Invitation.ID)
					}
				}
			}
			// Post/redirect/get: a reload shows the page again instead of
			// inviting again (which would replace the invitation and void
			// the link just shown). The link is held for this session once.
			held, _ := json.Marshal(props.NewInvitation)
			id, ok, err := holdReveal(c, h.Store, h.Sealer, h.Now(), string(held))
			if err != nil {
				return err
			}
			if ok {
				return c.Redirect(http.StatusSeeOther, "/org/members?reveal="+id)
			}
			// The link, when shown, is in this page only: nothing may keep a copy.
			c.Response().Header().Set("Cache-Control", "no-store")
			return h.render(c, http.StatusOK, props)
		}
		var ok bool
		if errs, ok = asFieldErrors(err); !ok {
			return partnersError(err)
		}
	}
	f.Errors = errs
	return h.render(c, http.StatusUnprocessableEntity, views.MembersProps{Invite: f})
}

// attributeLines shows a user's attributes as sorted "name=value" lines.
func attributeLines(attrs map[string]string) []string {
	out := make([]string, 0, len(attrs))
	for k, v := range attrs {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

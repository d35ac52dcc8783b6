package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/store"
)

// TestInvitationIsSingleUseAndCreatesTheAccountInTheInvitingOrg walks the
// whole invitation: the admin gets a link to copy, the invitee chooses a
// password (a weak one is refused and nothing is created), signs in with
// the invited role, and the link is dead afterwards.
func TestInvitationIsSingleUseAndCreatesTheAccountInTheInvitingOrg(t *testing.T) {
	w := newWorld(t)
	link := w.invite(t, "newdev@partner.example", store.RoleDeveloper)

	anon := w.h.Client(t)
	r := anon.Get(link)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Join Acme") || !strings.Contains(r.Body, "newdev@partner.example") {
		t.Fatalf("accept page: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	r = anon.Post(link, url.Values{"name": {"New Dev"}, "password": {"short"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="err-password"`) {
		t.Fatalf("weak password: %d", r.StatusCode)
	}
	if _, err := w.h.Store.UserByEmail(context.Background(), w.acme.ID, "newdev@partner.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused acceptance created the account: %v", err)
	}
	r = anon.Post(link, url.Values{"name": {"New Dev"}, "password": {pw}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	u, err := w.h.Store.UserByEmail(context.Background(), w.acme.ID, "newdev@partner.example")
	if err != nil || u.Role != store.RoleDeveloper || u.OrgID != w.acme.ID {
		t.Fatalf("account: %+v %v", u, err)
	}
	c := w.h.Client(t)
	c.Login("newdev@partner.example", pw)
	if r := c.Get("/apps"); r.StatusCode != http.StatusOK {
		t.Errorf("the new developer cannot open Apps: %d", r.StatusCode)
	}
	for _, try := range []func() int{
		func() int { return anon.Get(link).StatusCode },
		func() int { return anon.Post(link, url.Values{"name": {"Again"}, "password": {pw}}).StatusCode },
	} {
		if st := try(); st != http.StatusGone {
			t.Errorf("reused link: %d, want 410", st)
		}
	}
	if r := w.as(t, orgAdmin).Get("/org/members"); !strings.Contains(r.Body, "accepted") {
		t.Error("the invitation is not shown as accepted")
	}
}

func TestInvitationExpiresAndCanBeRevoked(t *testing.T) {
	w := newWorld(t)
	expiring := w.invite(t, "late@partner.example", store.RoleMember)
	revoked := w.invite(t, "nope@partner.example", store.RoleMember)
	invs, _ := w.h.Store.Invitations(context.Background(), w.acme.ID)
	var id string
	for _, i := range invs {
		if i.Email == "nope@partner.example" {
			id = i.ID
		}
	}
	if r := w.as(t, orgAdmin).Post("/org/invitations/"+id+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if r := w.h.Client(t).Post(revoked, url.Values{"name": {"Nope"}, "password": {pw}}); r.StatusCode != http.StatusGone {
		t.Errorf("revoked link: %d", r.StatusCode)
	}

	w.clock.Advance(25 * time.Hour) // the invitations are valid for 24h
	if r := w.h.Client(t).Get(expiring); r.StatusCode != http.StatusGone {
		t.Errorf("expired link: %d", r.StatusCode)
	}
}

func TestInviteFormValidates(t *testing.T) {
	w := newWorld(t)
	admin := w.as(t, orgAdmin)
	for name, form := range map[string]url.Values{
		"bad email":      {"email": {"not-an-email"}, "role": {"member"}},
		"existing":       {"email": {"mia@acme.example"}, "role": {"member"}},
		"unknown role":   {"email": {"x@partner.example"}, "role": {"owner"}},
		"odd lifetime":   {"email": {"x@partner.example"}, "role": {"member"}, "ttl": {"9999h"}},
		"script in mail": {"email": {"<script>@x.example"}, "role": {"member"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := admin.Post("/org/invitations", form)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `class="field-error"`) {
				t.Fatalf("status %d", r.StatusCode)
			}
			if strings.Contains(r.Body, `id="invite-link"`) {
				t.Error("a refused invitation produced a link")
			}
		})
	}
	if invs, _ := w.h.Store.Invitations(context.Background(), w.acme.ID); len(invs) != 0 {
		t.Errorf("refused forms created %d invitations", len(invs))
	}
}

// TestRemovingAMemberEndsTheirSessionsAndTokens: removal takes effect at
// once, in every browser of the removed person.
func TestRemovingAMemberEndsTheirSessionsAndTokens(t *testing.T) {
	w := newWorld(t)
	dev := w.as(t, developer)
	clientID, _ := w.serviceApp(t)
	refresh := w.refreshFamily(t, w.users[developer], clientID)
	if r := w.as(t, orgAdmin).Post("/org/members/"+w.users[developer].ID+"/remove", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if r := dev.Get("/apps"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("the removed developer's session still works: %d", r.StatusCode)
	}
	if !w.familyRevoked(t, refresh) {
		t.Error("the removed developer's refresh tokens survived")
	}
	if e := auditEvent(t, w, "member.remove"); e.ActorID != w.users[orgAdmin].ID || e.Before == nil || e.After != nil {
		t.Errorf("audit: %+v", e)
	}
}

func TestRoleChangesStayWithinTheAdminsReach(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := w.as(t, orgAdmin)

	// Promote and demote within the organization.
	if r := admin.Post("/org/members/"+w.users[member].ID+"/role", url.Values{"role": {"developer"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("promote: %d %s", r.StatusCode, errorMessage(r.Body))
	}
	if u, _ := w.h.Store.User(ctx, w.acme.ID, w.users[member].ID); u.Role != store.RoleDeveloper {
		t.Errorf("role is %s", u.Role)
	}
	// Not themselves, not to a role that does not exist.
	for name, tc := range map[string]struct{ id, role string }{
		"own role":     {w.users[orgAdmin].ID, "member"},
		"unknown role": {w.users[developer].ID, "superuser"},
	} {
		t.Run(name, func(t *testing.T) {
			r := admin.Post("/org/members/"+tc.id+"/role", url.Values{"role": {tc.role}})
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", r.StatusCode)
			}
		})
	}
	if u, _ := w.h.Store.User(ctx, w.acme.ID, w.users[orgAdmin].ID); u.Role != store.RoleAdmin {
		t.Error("the admin demoted themselves")
	}
	// A platform admin outranks an org admin of the same organization.
	if r := w.as(t, platformAdmin).Post("/org/members/"+w.users[platformAdmin].ID+"/role", url.Values{"role": {"member"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("platform admin changed their own role: %d", r.StatusCode)
	}
	staffAdmin := w.user(t, w.staff, "ops@portico.example", store.RoleAdmin)
	c := w.h.Client(t)
	c.Login(staffAdmin.Email, pw)
	r := c.Post("/org/members/"+w.users[platformAdmin].ID+"/remove", nil)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an org admin removed a platform admin: %d", r.StatusCode)
	}
	if page := c.Get("/org/members"); strings.Contains(page.Body, "/org/members/"+w.users[platformAdmin].ID+"/remove") {
		t.Error("the members page offers to remove a platform admin")
	}
}

// TestAnotherOrganizationsIDsAreNotFound: acme's admin and developer try
// every member, invitation, app, secret and registration-token route with
// globex's IDs: each answers 404 and globex is unchanged.
func TestAnotherOrganizationsIDsAreNotFound(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	gl, _, err := w.reg.Register(ctx, w.globex.ID, authserverActor, serviceInput("Globex sync"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := w.reg.CreateRegistrationToken(ctx, w.globex.ID, authserverActor, regTokenInput)
	if err != nil {
		t.Fatal(err)
	}
	w.as(t, otherOrgAdmin)
	link := ""
	{
		other := w.as(t, otherOrgAdmin)
		r := inviteShown(t, other, other.Post("/org/invitations", url.Values{"email": {"g@globex.example"}, "role": {"member"}}))
		if m := inviteLinkRE.FindStringSubmatch(r.Body); m != nil {
			link = m[1]
		}
	}
	invs, _ := w.h.Store.Invitations(ctx, w.globex.ID)
	if len(invs) != 1 || link == "" {
		t.Fatal("no globex invitation")
	}
	before, _ := w.h.Store.AuditEvents(ctx, store.AuditFilter{OrgID: w.globex.ID})

	cases := []struct {
		as   persona
		path string
		form url.Values
	}{
		{orgAdmin, "/org/members/" + w.globDev.ID + "/role", url.Values{"role": {"member"}}},
		{orgAdmin, "/org/members/" + w.globDev.ID + "/remove", nil},
		{orgAdmin, "/org/invitations/" + invs[0].ID + "/revoke", nil},
		{developer, "/apps/" + gl.ClientID, nil},
		{developer, "/apps/" + gl.ClientID, url.Values{"name": {"Stolen"}}},
		{developer, "/apps/" + gl.ClientID + "/rotate", url.Values{"grace": {"0"}}},
		{developer, "/apps/" + gl.ClientID + "/secrets/" + gl.Secrets[0].ID + "/revoke", nil},
		{developer, "/apps/" + gl.ClientID + "/disable", nil},
		{developer, "/apps/" + gl.ClientID + "/delete", url.Values{"confirm": {"Globex sync"}}},
		{developer, "/apps/registration-tokens/" + tok.ID + "/revoke", nil},
		{orgAdmin, "/apps/" + gl.ClientID, nil},
		{orgAdmin, "/apps/" + gl.ClientID + "/delete", url.Values{"confirm": {"Globex sync"}}},
	}
	for _, tc := range cases {
		var status int
		if tc.form == nil && strings.HasPrefix(tc.path, "/apps/") && !strings.Contains(tc.path[6:], "/") {
			status = w.as(t, tc.as).Get(tc.path).StatusCode
		} else {
			status = w.as(t, tc.as).Post(tc.path, tc.form).StatusCode
		}
		if status != http.StatusNotFound {
			t.Errorf("%s as %s: %d, want 404", tc.path, tc.as, status)
		}
	}
	after, _ := w.h.Store.AuditEvents(ctx, store.AuditFilter{OrgID: w.globex.ID})
	if len(after) != len(before) {
		t.Errorf("globex changed: %d audit events, was %d", len(after), len(before))
	}
	if c, err := w.h.Store.ClientByClientID(ctx, w.globex.ID, gl.ClientID); err != nil || !c.Enabled || c.Name != "Globex sync" || len(c.Secrets) != 1 {
		t.Errorf("globex's app changed: %+v %v", c, err)
	}
	if u, err := w.h.Store.User(ctx, w.globex.ID, w.globDev.ID); err != nil || u.Role != store.RoleDeveloper {
		t.Errorf("globex's developer changed: %+v %v", u, err)
	}
	// Lists show only the viewer's organization.
	for _, page := range []string{"/org/members", "/apps", "/audit"} {
		body := w.as(t, orgAdmin).Get(page).Body
		for _, leak := range []string{"gil@globex.example", gl.ClientID, "Globex sync", "g@globex.example"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s shows globex's %s", page, leak)
			}
		}
	}
}

// auditEvent returns the newest audit event with action, failing without one.
func auditEvent(t *testing.T, w *world, action string) store.AuditEvent {
	t.Helper()
	ev, err := w.h.Store.AuditEvents(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		if e.Action == action {
			return e
		}
	}
	t.Fatalf("no %s event in the audit log", action)
	return store.AuditEvent{}
}

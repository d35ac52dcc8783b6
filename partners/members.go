package partners

import (
	"context"
	"errors"
	"strings"

	"portico/store"
)

// ErrNotAllowed means the manager may not make this change at all (as
// opposed to FieldErrors, which mean the input was wrong). The portal shows
// it as 403.
var ErrNotAllowed = errors.New("partners: not allowed")

// Manager is who asks for a membership change, with the authority that
// decides what they may do: an org admin acts in their own organization and
// never above their own role; a platform admin (and the CLI) anywhere.
type Manager struct {
	Actor         store.Actor
	OrgID         string // the manager's own organization
	Role          store.Role
	PlatformAdmin bool
	// TokenID is the admin API credential the manager acts with, "" for a
	// member or the command line: a credential made with it depends on it.
	TokenID string
}

// CLIManager is the command line: a platform-level actor.
func CLIManager(label string) Manager {
	return Manager{Actor: store.Actor{Label: label}, PlatformAdmin: true}
}

// canManage reports whether m may manage the members of orgID.
func (m Manager) canManage(orgID string) bool {
	return m.PlatformAdmin || (m.OrgID == orgID && m.Role == store.RoleAdmin)
}

// rank is the highest role m may hand out or act upon.
func (m Manager) rank() int {
	if m.PlatformAdmin {
		return store.RoleAdmin.Rank()
	}
	return m.Role.Rank()
}

// Member is a user as the membership pages and the audit log see them:
// nothing secret.
type Member struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"org_id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Role          store.Role `json:"role"`
	PlatformAdmin bool       `json:"platform_admin,omitempty"`
	Status        string     `json:"status"`
}

// MemberOf strips a user down to what may be shown and audited.
func MemberOf(u store.User) Member {
	return Member{ID: u.ID, OrgID: u.OrgID, Email: u.Email, Name: u.Name, Role: u.Role,
		PlatformAdmin: u.PlatformAdmin, Status: u.Status}
}

// checkTarget applies the rules every change to an existing member shares:
// only within an organization m manages, never to themselves (so nobody
// locks themselves out by accident), never to someone above m's rank, and
// never to a platform admin unless m is one.
func (m Manager) checkTarget(u store.User) error {
	switch {
	case !m.canManage(u.OrgID):
		return ErrNotAllowed
	case u.ID == m.Actor.UserID:
		return FieldErrors{"member": "You cannot change your own membership; ask another admin."}
	case u.Role.Rank() > m.rank(), u.PlatformAdmin && !m.PlatformAdmin:
		return FieldErrors{"member": "You cannot change a member whose role is above yours."}
	}
	return nil
}

// MayChange reports whether m may change or remove u at all, by the rules
// of checkTarget, so a page offers only the changes that would be allowed.
func (m Manager) MayChange(u store.User) bool { return m.checkTarget(u) == nil }

// Grantable lists the roles m may hand out, highest first.
func (m Manager) Grantable() []store.Role {
	var out []store.Role
	for _, r := range []store.Role{store.RoleAdmin, store.RoleDeveloper, store.RoleMember} {
		if r.Rank() <= m.rank() {
			out = append(out, r)
		}
	}
	return out
}

// ChangeRole gives a member of orgID a new role. A lowered role takes effect
// at once: the portal reads the role on every request, and the member's
// refresh tokens are revoked so no token minted under the old role lingers.
func (s *Service) ChangeRole(ctx context.Context, m Manager, orgID, userID string, role store.Role) (Member, error) {
	if !m.canManage(orgID) {
		return Member{}, ErrNotAllowed
	}
	var out Member
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		u, err := tx.User(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if err := m.checkTarget(u); err != nil {
			return err
		}
		switch {
		case !role.Valid():
			return FieldErrors{"role": "Choose admin, developer or member."}
		case role.Rank() > m.rank():
			return FieldErrors{"role": "You cannot give a role above your own."}
		}
		before, after, err := tx.UpdateUser(ctx, orgID, userID, func(x *store.User) error {
			x.Role = role
			return nil
		})
		if err != nil {
			return err
		}
		if role.Rank() < before.Role.Rank() {
			// Portal sessions reload the role on every request; refresh
			// tokens would carry the old one into new access tokens.
			if err := tx.RevokeUserRefreshFamilies(ctx, orgID, userID, "role lowered", s.now()); err != nil {
				return err
			}
		}
		out = MemberOf(after)
		return tx.Audit(ctx, m.Actor.Event(orgID, "member.role", "user", userID), MemberOf(before), out)
	})
	return out, err
}

// RemoveMember deletes a member's account in orgID; their sessions and
// refresh tokens end with it.
func (s *Service) RemoveMember(ctx context.Context, m Manager, orgID, userID string) error {
	if !m.canManage(orgID) {
		return ErrNotAllowed
	}
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		u, err := tx.User(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if err := m.checkTarget(u); err != nil {
			return err
		}
		if err := s.endAccess(ctx, tx, u, "member removed"); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, orgID, userID); err != nil {
			return err
		}
		// Their pending invitations go too: an old link must not bring a
		// removed member back.
		revoked, err := tx.RevokePendingInvitations(ctx, orgID, strings.ToLower(u.Email), s.now())
		if err != nil {
			return err
		}
		var after any // a removed member has no after, unless invitations went with them
		if revoked > 0 {
			after = map[string]any{"invitations_revoked": revoked}
		}
		return tx.Audit(ctx, m.Actor.Event(orgID, "member.remove", "user", userID), MemberOf(u), after)
	})
}

// endAccess signs u out everywhere and revokes their refresh tokens.
func (s *Service) endAccess(ctx context.Context, tx *store.Store, u store.User, reason string) error {
	if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	return tx.RevokeUserRefreshFamilies(ctx, u.OrgID, u.ID, reason, s.now())
}

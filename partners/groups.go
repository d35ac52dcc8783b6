package partners

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"portico/store"
)

// GroupView is a group as the pages, the CLI and the audit log see it.
type GroupView struct {
	ID         string            `json:"id"`
	OrgID      string            `json:"org_id"`
	Name       string            `json:"name"`
	Source     store.GroupSource `json:"source"`
	ExternalID string            `json:"external_id,omitempty"`
	Members    int               `json:"members"`
}

// ViewOf strips a group down to what may be shown and audited.
func ViewOf(g store.Group) GroupView {
	return GroupView{ID: g.ID, OrgID: g.OrgID, Name: g.Name, Source: g.Source, ExternalID: g.ExternalID, Members: g.Members}
}

// Editable reports whether admins change g's membership in Portico: groups
// from a sign-in claim follow the identity provider and groups from SCIM
// follow the partner's directory.
func Editable(g store.Group) bool { return g.Source == store.GroupLocal }

// GroupNameProblem says what is wrong with a group name, or "". Commas are
// refused because a policy's group list is comma-separated.
func GroupNameProblem(name string) string {
	switch {
	case name == "":
		return "Enter a group name."
	case len(name) > 200:
		return "Use at most 200 characters."
	case strings.ContainsRune(name, ','):
		return "A group name cannot contain a comma (policies list groups separated by commas)."
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "A group name cannot contain control characters."
	}
	return ""
}

// Groups lists orgID's groups.
func (s *Service) Groups(ctx context.Context, m Manager, orgID string) ([]store.Group, error) {
	if !m.canManage(orgID) {
		return nil, ErrNotAllowed
	}
	return s.Store.Groups(ctx, orgID)
}

// Group returns a group of orgID and its members.
func (s *Service) Group(ctx context.Context, m Manager, orgID, groupID string) (store.Group, []store.User, error) {
	if !m.canManage(orgID) {
		return store.Group{}, nil, ErrNotAllowed
	}
	g, err := s.Store.Group(ctx, orgID, groupID)
	if err != nil {
		return g, nil, err
	}
	users, err := s.Store.GroupMembers(ctx, orgID, groupID)
	return g, users, err
}

// GroupByName finds orgID's group called name, preferring the local one
// (the one admins manage) when several sources use the name.
func (s *Service) GroupByName(ctx context.Context, m Manager, orgID, name string) (store.Group, error) {
	if !m.canManage(orgID) {
		return store.Group{}, ErrNotAllowed
	}
	for _, src := range []store.GroupSource{store.GroupLocal, store.GroupSCIM, store.GroupIdP} {
		g, err := s.Store.GroupByName(ctx, orgID, src, name)
		if !errors.Is(err, store.ErrNotFound) {
			return g, err
		}
	}
	return store.Group{}, store.ErrNotFound
}

// CreateGroup defines a local group of orgID.
func (s *Service) CreateGroup(ctx context.Context, m Manager, orgID, name string) (store.Group, error) {
	if !m.canManage(orgID) {
		return store.Group{}, ErrNotAllowed
	}
	name = strings.TrimSpace(name)
	if p := GroupNameProblem(name); p != "" {
		return store.Group{}, FieldErrors{"name": p}
	}
	g := store.Group{OrgID: orgID, Name: name, Source: store.GroupLocal}
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateGroup(ctx, &g); errors.Is(err, store.ErrAlreadyExists) {
			return FieldErrors{"name": "This organization already has a group with that name."}
		} else if err != nil {
			return err
		}
		return tx.Audit(ctx, m.Actor.Event(orgID, "group.create", "group", g.ID), nil, ViewOf(g))
	})
	return g, err
}

// DeleteGroup removes a local group of orgID; its members lose it at once.
func (s *Service) DeleteGroup(ctx context.Context, m Manager, orgID, groupID string) error {
	if !m.canManage(orgID) {
		return ErrNotAllowed
	}
	return s.Store.InTx(ctx, func(tx *store.Store) error {
		g, err := tx.Group(ctx, orgID, groupID)
		if err != nil {
			return err
		}
		if !Editable(g) {
			return FieldErrors{"group": readOnly(g)}
		}
		if err := tx.DeleteGroup(ctx, orgID, groupID); err != nil {
			return err
		}
		return tx.Audit(ctx, m.Actor.Event(orgID, "group.delete", "group", g.ID), ViewOf(g), nil)
	})
}

// AddGroupMember puts the member of orgID with the given email into a local
// group.
func (s *Service) AddGroupMember(ctx context.Context, m Manager, orgID, groupID, email string) (store.User, error) {
	return s.changeMembership(ctx, m, orgID, groupID, email, true)
}

// RemoveGroupMember takes the member with the given email out of a local
// group.
func (s *Service) RemoveGroupMember(ctx context.Context, m Manager, orgID, groupID, email string) (store.User, error) {
	return s.changeMembership(ctx, m, orgID, groupID, email, false)
}

func (s *Service) changeMembership(ctx context.Context, m Manager, orgID, groupID, email string, add bool) (store.User, error) {
	if !m.canManage(orgID) {
		return store.User{}, ErrNotAllowed
	}
	var u store.User
	err := s.Store.InTx(ctx, func(tx *store.Store) error {
		g, err := tx.Group(ctx, orgID, groupID)
		if err != nil {
			return err
		}
		if !Editable(g) {
			return FieldErrors{"group": readOnly(g)}
		}
		u, err = tx.UserByEmail(ctx, orgID, strings.TrimSpace(email))
		if errors.Is(err, store.ErrNotFound) {
			return FieldErrors{"email": "No member of this organization has that email."}
		} else if err != nil {
			return err
		}
		var changed bool
		action := "group.add_member"
		if add {
			changed, err = tx.AddGroupMember(ctx, orgID, groupID, u.ID)
		} else {
			action = "group.remove_member"
			changed, err = tx.RemoveGroupMember(ctx, orgID, groupID, u.ID)
		}
		if err != nil || !changed {
			return err
		}
		return tx.Audit(ctx, m.Actor.Event(orgID, action, "group", g.ID), nil,
			map[string]string{"group": g.Name, "user_id": u.ID, "email": u.Email})
	})
	return u, err
}

func readOnly(g store.Group) string {
	if g.Source == store.GroupSCIM {
		return "This group comes from the organization's directory (SCIM); change it there."
	}
	return "This group comes from the identity provider's sign-in claim; change it there."
}

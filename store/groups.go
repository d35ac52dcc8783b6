package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// GroupSource says who owns a group and so who may change it.
type GroupSource string

const (
	GroupLocal GroupSource = "local" // admins, in the portal or the CLI
	GroupIdP   GroupSource = "idp"   // a sign-in connection's group claim; read-only
	GroupSCIM  GroupSource = "scim"  // the partner's directory
)

// Group is one of an organization's groups. Members counts its members when
// the group comes from Groups.
type Group struct {
	ID         string
	OrgID      string
	Name       string
	Source     GroupSource
	ExternalID string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Members    int
}

const groupColumns = `g.id, g.org_id, g.name, g.source, COALESCE(g.external_id, ''), g.created_at, g.updated_at,
	(SELECT COUNT(*) FROM org_group_members m WHERE m.group_id = g.id)`

func scanGroup(row interface{ Scan(...any) error }) (Group, error) {
	var g Group
	var src string
	var created, updated int64
	if err := row.Scan(&g.ID, &g.OrgID, &g.Name, &src, &g.ExternalID, &created, &updated, &g.Members); err != nil {
		return g, err
	}
	g.Source, g.CreatedAt, g.UpdatedAt = GroupSource(src), fromMS(created), fromMS(updated)
	return g, nil
}

func (s *Store) groups(ctx context.Context, op, where string, args ...any) ([]Group, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+groupColumns+` FROM org_groups g WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Groups lists an organization's groups by name, then source.
func (s *Store) Groups(ctx context.Context, orgID string) ([]Group, error) {
	return s.groups(ctx, "store: groups", "g.org_id = ? ORDER BY g.name, g.source", orgID)
}

// GroupsBySource lists an organization's groups of one source by name.
func (s *Store) GroupsBySource(ctx context.Context, orgID string, src GroupSource) ([]Group, error) {
	return s.groups(ctx, "store: groups", "g.org_id = ? AND g.source = ? ORDER BY g.name", orgID, string(src))
}

// Group returns a group of orgID; another organization's is ErrNotFound.
func (s *Store) Group(ctx context.Context, orgID, id string) (Group, error) {
	g, err := scanGroup(s.q.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM org_groups g WHERE g.org_id = ? AND g.id = ?`, orgID, id))
	return g, notFoundOrNil("store: group", err)
}

// GroupByName returns orgID's group of the given source and name.
func (s *Store) GroupByName(ctx context.Context, orgID string, src GroupSource, name string) (Group, error) {
	g, err := scanGroup(s.q.QueryRowContext(ctx, `SELECT `+groupColumns+` FROM org_groups g
		WHERE g.org_id = ? AND g.source = ? AND g.name = ?`, orgID, string(src), name))
	return g, notFoundOrNil("store: group by name", err)
}

// CreateGroup inserts g, assigning its ID and times. A name already used by
// a group of the same source, or an external ID already used, in the
// organization is ErrAlreadyExists.
func (s *Store) CreateGroup(ctx context.Context, g *Group) error {
	now := s.Now()
	if g.ID == "" {
		g.ID = NewID()
	}
	g.CreatedAt, g.UpdatedAt = now, now
	_, err := s.q.ExecContext(ctx, `INSERT INTO org_groups (id, org_id, name, source, external_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, NULLIF(?, ''), ?, ?)`, g.ID, g.OrgID, g.Name, string(g.Source), g.ExternalID, ms(now), ms(now))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: group %q: %w", g.Name, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: create group: %w", err)
	}
	return nil
}

// UpdateGroup renames a group of orgID and sets its external ID; its
// members' stored group names follow in the same transaction.
func (s *Store) UpdateGroup(ctx context.Context, orgID, id, name, externalID string) error {
	return s.InTx(ctx, func(tx *Store) error {
		res, err := tx.q.ExecContext(ctx, `UPDATE org_groups SET name = ?, external_id = NULLIF(?, ''), updated_at = ?
			WHERE org_id = ? AND id = ?`, name, externalID, ms(tx.Now()), orgID, id)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: group %q: %w", name, ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("store: update group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: update group: %w", ErrNotFound)
		}
		return tx.resyncGroupMembers(ctx, orgID, id)
	})
}

// DeleteGroup removes a group of orgID; its members lose its name at once.
func (s *Store) DeleteGroup(ctx context.Context, orgID, id string) error {
	return s.InTx(ctx, func(tx *Store) error {
		ids, err := tx.groupMemberIDs(ctx, orgID, id)
		if err != nil {
			return err
		}
		res, err := tx.q.ExecContext(ctx, `DELETE FROM org_groups WHERE org_id = ? AND id = ?`, orgID, id)
		if err != nil {
			return fmt.Errorf("store: delete group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: delete group: %w", ErrNotFound)
		}
		for _, uid := range ids {
			if err := tx.syncUserGroups(ctx, orgID, uid); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) groupMemberIDs(ctx context.Context, orgID, groupID string) ([]string, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT user_id FROM org_group_members WHERE org_id = ? AND group_id = ?`, orgID, groupID)
	if err != nil {
		return nil, fmt.Errorf("store: group members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Store) resyncGroupMembers(ctx context.Context, orgID, groupID string) error {
	ids, err := s.groupMemberIDs(ctx, orgID, groupID)
	if err != nil {
		return err
	}
	for _, uid := range ids {
		if err := s.syncUserGroups(ctx, orgID, uid); err != nil {
			return err
		}
	}
	return nil
}

// GroupMembers lists the users of a group of orgID by name.
func (s *Store) GroupMembers(ctx context.Context, orgID, groupID string) ([]User, error) {
	if _, err := s.Group(ctx, orgID, groupID); err != nil {
		return nil, err
	}
	return s.users(ctx, "store: group members", `org_id = ? AND id IN
		(SELECT user_id FROM org_group_members WHERE group_id = ?) ORDER BY name, email`, orgID, groupID)
}

// UserGroups lists the groups a user of orgID belongs to.
func (s *Store) UserGroups(ctx context.Context, orgID, userID string) ([]Group, error) {
	return s.groups(ctx, "store: user groups", `g.org_id = ? AND g.id IN
		(SELECT group_id FROM org_group_members WHERE user_id = ?) ORDER BY g.name, g.source`, orgID, userID)
}

// AddGroupMember puts a user of orgID into a group of orgID and reports
// whether they were not in it yet. Either from another organization is
// ErrNotFound.
func (s *Store) AddGroupMember(ctx context.Context, orgID, groupID, userID string) (bool, error) {
	var added bool
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.Group(ctx, orgID, groupID); err != nil {
			return err
		}
		if _, err := tx.User(ctx, orgID, userID); err != nil {
			return err
		}
		res, err := tx.q.ExecContext(ctx, `INSERT INTO org_group_members (group_id, user_id, org_id, added_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, userID, orgID, ms(tx.Now()))
		if err != nil {
			return fmt.Errorf("store: add group member: %w", err)
		}
		n, _ := res.RowsAffected()
		added = n > 0
		return tx.syncUserGroups(ctx, orgID, userID)
	})
	return added, err
}

// RemoveGroupMember takes a user out of a group of orgID and reports
// whether they were in it.
func (s *Store) RemoveGroupMember(ctx context.Context, orgID, groupID, userID string) (bool, error) {
	var removed bool
	err := s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.Group(ctx, orgID, groupID); err != nil {
			return err
		}
		res, err := tx.q.ExecContext(ctx, `DELETE FROM org_group_members WHERE org_id = ? AND group_id = ? AND user_id = ?`,
			orgID, groupID, userID)
		if err != nil {
			return fmt.Errorf("store: remove group member: %w", err)
		}
		n, _ := res.RowsAffected()
		removed = n > 0
		if !removed {
			return nil
		}
		return tx.syncUserGroups(ctx, orgID, userID)
	})
	return removed, err
}

// SetGroupMembers makes userIDs (users of orgID) the whole membership of a
// group of orgID, as a SCIM PUT does.
func (s *Store) SetGroupMembers(ctx context.Context, orgID, groupID string, userIDs []string) error {
	return s.InTx(ctx, func(tx *Store) error {
		old, err := tx.groupMemberIDs(ctx, orgID, groupID)
		if err != nil {
			return err
		}
		for _, id := range old {
			if !slices.Contains(userIDs, id) {
				if _, err := tx.RemoveGroupMember(ctx, orgID, groupID, id); err != nil {
					return err
				}
			}
		}
		for _, id := range userIDs {
			if !slices.Contains(old, id) {
				if _, err := tx.AddGroupMember(ctx, orgID, groupID, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SetUserIdPGroups records the group claim of a sign-in: the user's idp
// groups become exactly names (groups of source idp are created as they
// first appear), and users.idp_groups follows. Call it inside the sign-in's
// transaction.
func (s *Store) SetUserIdPGroups(ctx context.Context, orgID, userID string, names []string) error {
	return s.InTx(ctx, func(tx *Store) error {
		want := map[string]string{} // group id → name
		for _, n := range names {
			g, err := tx.GroupByName(ctx, orgID, GroupIdP, n)
			if isNotFound(err) {
				g = Group{OrgID: orgID, Name: n, Source: GroupIdP}
				err = tx.CreateGroup(ctx, &g)
			}
			if err != nil {
				return err
			}
			want[g.ID] = n
		}
		cur, err := tx.UserGroups(ctx, orgID, userID)
		if err != nil {
			return err
		}
		for _, g := range cur {
			if g.Source != GroupIdP {
				continue
			}
			if _, ok := want[g.ID]; ok {
				delete(want, g.ID)
				continue
			}
			if _, err := tx.q.ExecContext(ctx, `DELETE FROM org_group_members WHERE group_id = ? AND user_id = ?`, g.ID, userID); err != nil {
				return fmt.Errorf("store: idp groups: %w", err)
			}
		}
		for id := range want {
			if _, err := tx.q.ExecContext(ctx, `INSERT INTO org_group_members (group_id, user_id, org_id, added_at)
				VALUES (?, ?, ?, ?) ON CONFLICT (group_id, user_id) DO NOTHING`, id, userID, orgID, ms(tx.Now())); err != nil {
				return fmt.Errorf("store: idp groups: %w", err)
			}
		}
		return tx.syncUserGroups(ctx, orgID, userID)
	})
}

// setLocalGroupNames makes the user's local groups exactly names (creating
// local groups as needed), leaving their scim and idp groups alone. It keeps
// CreateUser and UpdateUser callers that set User.LocalGroups working.
func (s *Store) setLocalGroupNames(ctx context.Context, orgID, userID string, names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	cur, err := s.UserGroups(ctx, orgID, userID)
	if err != nil {
		return err
	}
	for _, g := range cur {
		switch {
		case g.Source == GroupSCIM:
			delete(want, g.Name) // already carried by the directory's group
		case g.Source != GroupLocal:
		case want[g.Name]:
			delete(want, g.Name)
		default:
			if _, err := s.q.ExecContext(ctx, `DELETE FROM org_group_members WHERE group_id = ? AND user_id = ?`, g.ID, userID); err != nil {
				return fmt.Errorf("store: local groups: %w", err)
			}
		}
	}
	for n := range want {
		g, err := s.GroupByName(ctx, orgID, GroupLocal, n)
		if isNotFound(err) {
			g = Group{OrgID: orgID, Name: n, Source: GroupLocal}
			err = s.CreateGroup(ctx, &g)
		}
		if err != nil {
			return err
		}
		if _, err := s.q.ExecContext(ctx, `INSERT INTO org_group_members (group_id, user_id, org_id, added_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (group_id, user_id) DO NOTHING`, g.ID, userID, orgID, ms(s.Now())); err != nil {
			return fmt.Errorf("store: local groups: %w", err)
		}
	}
	return s.syncUserGroups(ctx, orgID, userID)
}

// syncUserGroups rewrites users.local_groups and users.idp_groups from the
// membership table, so User.Groups (what a policy request carries) is the
// union of the user's memberships.
func (s *Store) syncUserGroups(ctx context.Context, orgID, userID string) error {
	gs, err := s.UserGroups(ctx, orgID, userID)
	if err != nil {
		return err
	}
	local, idp := []string{}, []string{}
	for _, g := range gs {
		if g.Source == GroupIdP {
			idp = append(idp, g.Name)
		} else {
			local = append(local, g.Name)
		}
	}
	slices.Sort(local)
	slices.Sort(idp)
	lj, _ := json.Marshal(slices.Compact(local))
	ij, _ := json.Marshal(slices.Compact(idp))
	_, err = s.q.ExecContext(ctx, `UPDATE users SET local_groups = ?, idp_groups = ? WHERE org_id = ? AND id = ?`,
		string(lj), string(ij), orgID, userID)
	if err != nil {
		return fmt.Errorf("store: sync user groups: %w", err)
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// SCIMUser is what the partner's directory calls a user of ours.
type SCIMUser struct {
	UserID     string
	OrgID      string
	UserName   string
	ExternalID string
}

// PutSCIMUser records (or changes) the directory's names for a user.
func (s *Store) PutSCIMUser(ctx context.Context, u SCIMUser) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO scim_users (user_id, org_id, user_name, external_id)
		VALUES (?, ?, ?, NULLIF(?, ''))
		ON CONFLICT (user_id) DO UPDATE SET user_name = excluded.user_name, external_id = excluded.external_id`,
		u.UserID, u.OrgID, u.UserName, u.ExternalID)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: scim user %q: %w", u.UserName, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: scim user: %w", err)
	}
	return nil
}

// SCIMUserOf returns the directory's names for a user of orgID; a user the
// directory does not manage is ErrNotFound.
func (s *Store) SCIMUserOf(ctx context.Context, orgID, userID string) (SCIMUser, error) {
	u := SCIMUser{UserID: userID, OrgID: orgID}
	err := s.q.QueryRowContext(ctx, `SELECT user_name, COALESCE(external_id, '') FROM scim_users
		WHERE org_id = ? AND user_id = ?`, orgID, userID).Scan(&u.UserName, &u.ExternalID)
	return u, notFoundOrNil("store: scim user", err)
}

// UserBySCIMExternalID returns the user of orgID whose directory externalId
// is ext.
func (s *Store) UserBySCIMExternalID(ctx context.Context, orgID, ext string) (User, error) {
	if ext == "" {
		return User{}, fmt.Errorf("store: user by external id: %w", ErrNotFound)
	}
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = ? AND id =
		(SELECT user_id FROM scim_users WHERE org_id = ? AND external_id = ?)`, orgID, orgID, ext))
	return u, notFoundOrNil("store: user by external id", err)
}

// UserBySCIMUserName returns the user of orgID whose directory userName is
// name.
func (s *Store) UserBySCIMUserName(ctx context.Context, orgID, name string) (User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = ? AND id =
		(SELECT user_id FROM scim_users WHERE org_id = ? AND user_name = ?)`, orgID, orgID, name))
	return u, notFoundOrNil("store: user by scim user name", err)
}

// SCIMToken is an organization's directory token, without the token.
type SCIMToken struct {
	OrgID      string
	Hash       string
	Hint       string
	CreatedAt  time.Time
	CreatedBy  string
	LastUsedAt time.Time
}

// PutSCIMToken stores (or replaces: rotation) the organization's token hash.
func (s *Store) PutSCIMToken(ctx context.Context, t SCIMToken) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO scim_tokens (org_id, token_hash, hint, created_at, created_by, last_used_at)
		VALUES (?, ?, ?, ?, ?, NULL)
		ON CONFLICT (org_id) DO UPDATE SET token_hash = excluded.token_hash, hint = excluded.hint,
			created_at = excluded.created_at, created_by = excluded.created_by, last_used_at = NULL`,
		t.OrgID, t.Hash, t.Hint, ms(t.CreatedAt), t.CreatedBy)
	if err != nil {
		return fmt.Errorf("store: scim token: %w", err)
	}
	return nil
}

// SCIMTokenOf returns orgID's token record, or ErrNotFound.
func (s *Store) SCIMTokenOf(ctx context.Context, orgID string) (SCIMToken, error) {
	t := SCIMToken{OrgID: orgID}
	var created int64
	var used sql.NullInt64
	err := s.q.QueryRowContext(ctx, `SELECT token_hash, hint, created_at, created_by, last_used_at FROM scim_tokens
		WHERE org_id = ?`, orgID).Scan(&t.Hash, &t.Hint, &created, &t.CreatedBy, &used)
	t.CreatedAt, t.LastUsedAt = fromMS(created), fromNullMS(used)
	return t, notFoundOrNil("store: scim token", err)
}

// DeleteSCIMToken removes orgID's token: the directory can no longer push.
func (s *Store) DeleteSCIMToken(ctx context.Context, orgID string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM scim_tokens WHERE org_id = ?`, orgID)
	return err
}

// TouchSCIMToken records a use of orgID's token.
func (s *Store) TouchSCIMToken(ctx context.Context, orgID string, at time.Time) error {
	_, err := s.q.ExecContext(ctx, `UPDATE scim_tokens SET last_used_at = ? WHERE org_id = ?`, ms(at), orgID)
	return err
}

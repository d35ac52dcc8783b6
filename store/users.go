package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is a user's role in their organization.
type Role string

// Roles, from most to least powerful.
const (
	RoleAdmin     Role = "admin"
	RoleDeveloper Role = "developer"
	RoleMember    Role = "member"
)

// Rank orders roles so that "may not raise anyone above their own role" is a
// comparison. Unknown roles rank below member.
func (r Role) Rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleDeveloper:
		return 2
	case RoleMember:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r.Rank() > 0 }

// User statuses.
const (
	UserActive   = "active"
	UserDisabled = "disabled"
)

// User is a person with an account in one organization.
type User struct {
	ID            string
	OrgID         string
	Email         string // lower case
	EmailVerified bool
	Name          string
	Role          Role
	PlatformAdmin bool
	Status        string
	// IdPGroups are replaced from the identity provider's claims at every
	// sign-in; LocalGroups are managed in Portico.
	IdPGroups    []string
	LocalGroups  []string
	Attributes   map[string]string
	PasswordHash string // identity pool only; argon2id in PHC format
	FailedLogins int
	LockedUntil  time.Time
	LastLoginAt  time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Groups returns the user's effective groups: IdP and local, sorted, unique.
func (u User) Groups() []string {
	g := append(slices.Clone(u.IdPGroups), u.LocalGroups...)
	slices.Sort(g)
	return slices.Compact(g)
}

const userColumns = `id, org_id, email, email_verified, name, role, platform_admin, status,
	idp_groups, local_groups, attributes, COALESCE(password_hash, ''), failed_logins, locked_until,
	last_login_at, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var role, idpGroups, localGroups, attrs string
	var locked, lastLogin sql.NullInt64
	var created, updated int64
	err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.EmailVerified, &u.Name, &role, &u.PlatformAdmin, &u.Status,
		&idpGroups, &localGroups, &attrs, &u.PasswordHash, &u.FailedLogins, &locked, &lastLogin, &created, &updated)
	if err != nil {
		return u, err
	}
	u.Role = Role(role)
	if err := json.Unmarshal([]byte(idpGroups), &u.IdPGroups); err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(localGroups), &u.LocalGroups); err != nil {
		return u, err
	}
	if err := json.Unmarshal([]byte(attrs), &u.Attributes); err != nil {
		return u, err
	}
	u.LockedUntil, u.LastLoginAt = fromNullMS(locked), fromNullMS(lastLogin)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return u, nil
}

func (s *Store) users(ctx context.Context, op, where string, args ...any) ([]User, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// User returns a user of the organization orgID; a user of another
// organization is ErrNotFound.
func (s *Store) User(ctx context.Context, orgID, id string) (User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = ? AND id = ?`+s.forUpdate(), orgID, id))
	return u, notFoundOrNil("store: user", err)
}

// UserByID returns a user whatever their organization. Only session loading
// and token issuance, which start from an ID they issued themselves, use it.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, notFoundOrNil("store: user by id", err)
}

// UserByEmail returns the user of orgID with the given email.
func (s *Store) UserByEmail(ctx context.Context, orgID, email string) (User, error) {
	u, err := scanUser(s.q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = ? AND email = ?`,
		orgID, strings.ToLower(email)))
	return u, notFoundOrNil("store: user by email", err)
}

// UsersByEmail returns every account with the given email, across
// organizations; the sign-in page uses it to route an identity-pool user.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]User, error) {
	return s.users(ctx, "store: users by email", "email = ? ORDER BY created_at", strings.ToLower(email))
}

// Users lists the users of an organization by name.
func (s *Store) Users(ctx context.Context, orgID string) ([]User, error) {
	return s.users(ctx, "store: users", "org_id = ? ORDER BY name, email", orgID)
}

// HasActivePlatformAdmin reports whether an active platform admin is among
// orgID's members (what makes it the platform's own organization).
func (s *Store) HasActivePlatformAdmin(ctx context.Context, orgID string) (bool, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE org_id = ? AND platform_admin = ? AND status = ?`,
		orgID, true, UserActive).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: platform admins: %w", err)
	}
	return n > 0, nil
}

// CountUsers returns how many users exist in all organizations.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// CreateUser inserts u, assigning its ID and timestamps. An email already
// used in the same organization is ErrAlreadyExists.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	now := s.Now()
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.Status == "" {
		u.Status = UserActive
	}
	u.Email = strings.ToLower(u.Email)
	u.CreatedAt, u.UpdatedAt = now, now
	if len(u.LocalGroups) == 0 && len(u.IdPGroups) == 0 {
		return s.writeUser(ctx, u, true)
	}
	// Groups given at creation become memberships.
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.writeUser(ctx, u, true); err != nil {
			return err
		}
		if err := tx.setLocalGroupNames(ctx, u.OrgID, u.ID, u.LocalGroups); err != nil {
			return err
		}
		if err := tx.SetUserIdPGroups(ctx, u.OrgID, u.ID, u.IdPGroups); err != nil {
			return err
		}
		after, err := tx.User(ctx, u.OrgID, u.ID)
		u.LocalGroups, u.IdPGroups = after.LocalGroups, after.IdPGroups
		return err
	})
}

func (s *Store) writeUser(ctx context.Context, u *User, insert bool) error {
	idp, _ := json.Marshal(nonNil(u.IdPGroups))
	local, _ := json.Marshal(nonNil(u.LocalGroups))
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrJSON, _ := json.Marshal(attrs)
	pw := sql.NullString{String: u.PasswordHash, Valid: u.PasswordHash != ""}
	var err error
	if insert {
		_, err = s.q.ExecContext(ctx, `INSERT INTO users (id, org_id, email, email_verified, name, role,
			platform_admin, status, idp_groups, local_groups, attributes, password_hash, failed_logins,
			locked_until, last_login_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.OrgID, u.Email, u.EmailVerified, u.Name, string(u.Role), u.PlatformAdmin, u.Status,
			string(idp), string(local), string(attrJSON), pw, u.FailedLogins, nullMS(u.LockedUntil),
			nullMS(u.LastLoginAt), ms(u.CreatedAt), ms(u.UpdatedAt))
	} else {
		_, err = s.q.ExecContext(ctx, `UPDATE users SET email = ?, email_verified = ?, name = ?, role = ?,
			platform_admin = ?, status = ?, idp_groups = ?, local_groups = ?, attributes = ?, password_hash = ?,
			failed_logins = ?, locked_until = ?, last_login_at = ?, updated_at = ? WHERE id = ? AND org_id = ?`,
			u.Email, u.EmailVerified, u.Name, string(u.Role), u.PlatformAdmin, u.Status, string(idp), string(local),
			string(attrJSON), pw, u.FailedLogins, nullMS(u.LockedUntil), nullMS(u.LastLoginAt), ms(u.UpdatedAt),
			u.ID, u.OrgID)
	}
	if isUniqueViolation(err) {
		return fmt.Errorf("store: user %q: %w", u.Email, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("store: write user: %w", err)
	}
	return nil
}

// UpdateUser changes a user of orgID in one transaction and returns the user
// before and after. The user's ID and organization cannot be changed.
func (s *Store) UpdateUser(ctx context.Context, orgID, id string, update func(*User) error) (before, after User, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		if before, err = tx.User(ctx, orgID, id); err != nil {
			return err
		}
		after = before
		after.IdPGroups = slices.Clone(before.IdPGroups)
		after.LocalGroups = slices.Clone(before.LocalGroups)
		after.Attributes = make(map[string]string, len(before.Attributes))
		for k, v := range before.Attributes {
			after.Attributes[k] = v
		}
		if err := update(&after); err != nil {
			return err
		}
		after.ID, after.OrgID, after.CreatedAt, after.UpdatedAt = before.ID, before.OrgID, before.CreatedAt, tx.Now()
		after.Email = strings.ToLower(after.Email)
		if err := tx.writeUser(ctx, &after, false); err != nil {
			return err
		}
		// Groups live in org_group_members; the columns are its mirror. A
		// caller that changes LocalGroups changes the local memberships,
		// and one that changes IdPGroups records a sign-in's claim.
		if !slices.Equal(before.LocalGroups, after.LocalGroups) {
			if err := tx.setLocalGroupNames(ctx, orgID, id, after.LocalGroups); err != nil {
				return err
			}
		}
		if !slices.Equal(before.IdPGroups, after.IdPGroups) {
			if err := tx.SetUserIdPGroups(ctx, orgID, id, after.IdPGroups); err != nil {
				return err
			}
		}
		fresh, err := tx.User(ctx, orgID, id)
		after.LocalGroups, after.IdPGroups = fresh.LocalGroups, fresh.IdPGroups
		return err
	})
	return before, after, err
}

// DeleteUser removes a user of orgID and, through the foreign keys, their
// sessions.
func (s *Store) DeleteUser(ctx context.Context, orgID, id string) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM users WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return fmt.Errorf("store: delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete user: %w", ErrNotFound)
	}
	return nil
}

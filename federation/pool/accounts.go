package pool

import (
	"context"
	"errors"
	"net/mail"
	"sort"
	"strings"
	"time"

	"portico/store"
)

// Accounts creates identity-pool users and issues their password reset
// links. The portal's pages and the CLI both call it, so the checks and the
// audit trail are the same whichever door an administrator uses.
type Accounts struct {
	Store *store.Store
	Now   func() time.Time
	// ResetTTL is how long a reset link works; zero means DefaultResetTTL.
	ResetTTL time.Duration
}

// DefaultResetTTL is long enough for an administrator to pass a link on by
// chat or phone the same day, short enough that a forgotten one dies.
const DefaultResetTTL = 24 * time.Hour

// FieldErrors maps an input field to a person-readable problem with it. An
// operation returning FieldErrors changed nothing.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid account:")
	for _, k := range keys {
		b.WriteString(" " + k + ": " + f[k])
	}
	return b.String()
}

// NewUser is a requested identity-pool account.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Role     store.Role // empty means member
	Groups   []string   // local groups
}

// CreateUser adds an identity-pool user to orgID with an argon2id hash of
// the password. Invalid input, a weak password or an email already used in
// the organization returns FieldErrors and stores nothing.
func (a *Accounts) CreateUser(ctx context.Context, actor store.Actor, orgID string, in NewUser) (store.User, error) {
	errs := FieldErrors{}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		errs["email"] = "Enter an email address like ada@example.com."
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || len(name) > 80 {
		errs["name"] = "Give a name of 1–80 characters."
	}
	role := in.Role
	if role == "" {
		role = store.RoleMember
	}
	if !role.Valid() {
		errs["role"] = "Choose member, developer or admin."
	}
	if msg := CheckPasswordStrength(in.Password); msg != "" {
		errs["password"] = msg
	}
	var groups []string
	for _, g := range in.Groups {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	if len(errs) > 0 {
		return store.User{}, errs
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return store.User{}, err
	}
	// Creating an account proves nothing about its mailbox, so its email is
	// unverified (ID tokens say email_verified: false) until a proof comes:
	// an upstream IdP that vouches for it. Linking an IdP sign-in to this
	// account depends on the upstream's email_verified, not on this flag.
	u := store.User{OrgID: orgID, Email: email, EmailVerified: false, Name: name, Role: role,
		LocalGroups: groups, PasswordHash: hash}
	err = a.Store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.Event(orgID, "user.create", "user", u.ID), nil, auditUser(u))
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return store.User{}, FieldErrors{"email": "This organization already has an account with this email."}
	}
	return u, err
}

// userAudit is a user as the audit log records them: never the hash.
type userAudit struct {
	ID     string   `json:"id"`
	Email  string   `json:"email"`
	Name   string   `json:"name"`
	Role   string   `json:"role"`
	Groups []string `json:"groups,omitempty"`
	Pool   bool     `json:"identity_pool"`
}

func auditUser(u store.User) userAudit {
	return userAudit{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Groups: u.LocalGroups,
		Pool: u.PasswordHash != ""}
}

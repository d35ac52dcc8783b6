package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"portico/store"
)

// Provisioner turns an upstream identity into a Portico user of the
// connection's organization: just in time on the first sign-in, with groups
// refreshed from the upstream on every sign-in.
type Provisioner struct {
	Store *store.Store
	Now   func() time.Time
}

// Provision finds or creates the user for id, who signed in through conn.
// The rules, each a guard against one organization reaching into another:
//   - the user always belongs to conn's organization;
//   - an email whose domain another organization owns is refused;
//   - an existing account of the organization is linked only when the
//     upstream says the email is verified;
//   - disabled users and inactive organizations are refused.
func (p *Provisioner) Provision(ctx context.Context, conn store.Connection, id Identity) (store.User, error) {
	if !conn.Enabled {
		return store.User{}, ErrConnectionDisabled
	}
	if id.Subject == "" {
		return store.User{}, Upstream(errors.New("no subject"))
	}
	email := strings.ToLower(strings.TrimSpace(id.Email))
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return store.User{}, ErrNoEmail
	}
	now := p.Now()
	var user store.User
	err := p.Store.InTx(ctx, func(tx *store.Store) error {
		org, err := tx.Organization(ctx, conn.OrgID)
		if err != nil {
			return err
		}
		if org.InactiveReason(now) != "" {
			return ErrOrgInactive
		}
		if owner, err := tx.OrganizationByDomain(ctx, email[at+1:]); err == nil && owner.ID != conn.OrgID {
			return fmt.Errorf("%w: %s", ErrOtherOrgDomain, email[at+1:])
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		groups := cleanGroups(id.Groups)
		actor := store.Actor{Label: "sign-in:" + conn.ID}
		link, err := tx.IdentityBySubject(ctx, conn.OrgID, conn.ID, id.Subject)
		switch {
		case err == nil:
			user, err = tx.User(ctx, conn.OrgID, link.UserID)
			if err != nil {
				return err
			}
		case errors.Is(err, store.ErrNotFound):
			user, err = tx.UserByEmail(ctx, conn.OrgID, email)
			switch {
			case err == nil:
				// A platform admin's account is never taken by email: an
				// admin of their organization could otherwise add an IdP
				// that vouches for the address and become platform admin
				// (as reset links, which only platform admins may issue
				// for one).
				if user.PlatformAdmin {
					return ErrPrivilegedLink
				}
				if !id.EmailVerified {
					return ErrUnverifiedLink
				}
				if err := tx.Audit(ctx, actor.Event(conn.OrgID, "identity.link", "user", user.ID), nil,
					map[string]string{"connection": conn.ID, "subject": id.Subject}); err != nil {
					return err
				}
			case errors.Is(err, store.ErrNotFound):
				user = store.User{OrgID: conn.OrgID, Email: email, EmailVerified: id.EmailVerified,
					Name: displayName(id, email), Role: store.RoleMember, IdPGroups: groups, Attributes: id.Attributes}
				if err := tx.CreateUser(ctx, &user); err != nil {
					return err
				}
				if err := tx.Audit(ctx, actor.Event(conn.OrgID, "user.provision", "user", user.ID), nil,
					map[string]any{"email": email, "connection": conn.ID, "groups": groups}); err != nil {
					return err
				}
			default:
				return err
			}
		default:
			return err
		}
		if user.Status != store.UserActive {
			return ErrUserDisabled
		}
		_, user, err = tx.UpdateUser(ctx, conn.OrgID, user.ID, func(u *store.User) error {
			u.IdPGroups = groups
			u.LastLoginAt = now
			if id.Name != "" {
				u.Name = id.Name
			}
			// The email follows the upstream only when it vouches for it and
			// the address is free in this organization.
			if id.EmailVerified && email != u.Email {
				if _, err := tx.UserByEmail(ctx, conn.OrgID, email); errors.Is(err, store.ErrNotFound) {
					u.Email, u.EmailVerified = email, true
				}
			} else if id.EmailVerified && email == u.Email {
				u.EmailVerified = true
			}
			for k, v := range id.Attributes {
				if u.Attributes == nil {
					u.Attributes = map[string]string{}
				}
				u.Attributes[k] = v
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.LinkIdentity(ctx, &store.Identity{ConnectionID: conn.ID, Subject: id.Subject, UserID: user.ID, OrgID: conn.OrgID})
	})
	return user, err
}

func displayName(id Identity, email string) string {
	if id.Name != "" {
		return id.Name
	}
	return email[:strings.IndexByte(email, '@')]
}

// cleanGroups trims, drops empties, sorts and de-duplicates, so the stored
// groups compare equal however the upstream ordered them.
func cleanGroups(in []string) []string {
	out := make([]string, 0, len(in))
	for _, g := range in {
		if g = strings.TrimSpace(g); g != "" && len(g) <= 200 {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

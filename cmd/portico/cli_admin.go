package main

import (
	"context"
	"fmt"
	"time"

	"portico/federation/pool"
	"portico/store"
)

func runAdmin(ctx context.Context, c *cli, args []string) error {
	return c.subcommand(ctx, "admin", args, map[string]func(context.Context, *cli, []string) error{
		"reset-password": runAdminResetPassword,
	})
}

// runAdminResetPassword gives an identity-pool account a new random password,
// unlocks it and ends its sessions. Without --email it resets the first
// platform administrator.
func runAdminResetPassword(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlags("admin reset-password")
	db := c.dbFlag(fs)
	email := fs.String("email", firstAdmin, "account to reset")
	org := fs.String("org", "", "organization slug, when the email has accounts in several")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	users, err := st.UsersByEmail(ctx, *email)
	if err != nil {
		return err
	}
	var target *store.User
	for i, u := range users {
		if *org == "" || orgSlugOf(ctx, st, u.OrgID) == *org {
			if target != nil {
				return fmt.Errorf("%s has accounts in several organizations; name one with --org", *email)
			}
			target = &users[i]
		}
	}
	if target == nil {
		return fmt.Errorf("no account with email %s", *email)
	}
	password := pool.GeneratePassword()
	hash, err := pool.HashPassword(password)
	if err != nil {
		return err
	}
	err = st.InTx(ctx, func(tx *store.Store) error {
		if _, _, err := tx.UpdateUser(ctx, target.OrgID, target.ID, func(u *store.User) error {
			u.PasswordHash, u.FailedLogins, u.LockedUntil = hash, 0, time.Time{}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, target.ID); err != nil {
			return err
		}
		if err := tx.RequirePasswordChange(ctx, target.ID); err != nil { // printed on a console: replaced at sign-in
			return err
		}
		return tx.Audit(ctx, store.Actor{Label: cliActor}.Event(target.OrgID, "user.reset_password", "user", target.ID), nil, nil)
	})
	if err != nil {
		return err
	}
	return c.output(*asJSON, map[string]string{"email": target.Email, "password": password},
		fmt.Sprintf("New password for %s: %s\nIt is shown only once and must be changed at the next sign-in; the account's sessions were ended.", target.Email, password))
}

func orgSlugOf(ctx context.Context, st *store.Store, orgID string) string {
	o, err := st.Organization(ctx, orgID)
	if err != nil {
		return ""
	}
	return o.Slug
}

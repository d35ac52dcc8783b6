package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"portico/federation/pool"
	"portico/store"
)

// The organization of the people who run Portico, created on first run.
const (
	platformSlug = "platform"
	firstAdmin   = "admin@portico.localhost"
)

// ensureFirstAdmin creates, on an empty database, the platform organization
// and a platform administrator in the identity pool, and prints the
// credentials once. The password is stored only as an argon2id hash.
func ensureFirstAdmin(ctx context.Context, st *store.Store, out io.Writer, issuer string) error {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	password := pool.GeneratePassword()
	hash, err := pool.HashPassword(password)
	if err != nil {
		return err
	}
	created := false
	err = st.InTx(ctx, func(tx *store.Store) error {
		// Replicas starting together on a new PostgreSQL database: one makes
		// the administrator, the others find it made (on SQLite the
		// transaction is already exclusive).
		if err := tx.Lock(ctx, "first-run"); err != nil {
			return err
		}
		if n, err := tx.CountUsers(ctx); err != nil || n > 0 {
			return err
		}
		created = true
		org, err := tx.OrganizationBySlug(ctx, platformSlug)
		if errors.Is(err, store.ErrNotFound) {
			org = store.Organization{Slug: platformSlug, Name: "Platform"}
			err = tx.CreateOrganization(ctx, &org)
		}
		if err != nil {
			return err
		}
		u := store.User{OrgID: org.ID, Email: firstAdmin, EmailVerified: true, Name: "Platform admin",
			Role: store.RoleAdmin, PlatformAdmin: true, PasswordHash: hash}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		// The password went through a console (and maybe a log): the
		// administrator chooses their own at the first sign-in.
		if err := tx.RequirePasswordChange(ctx, u.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, store.Actor{Label: "first-run"}.Event(org.ID, "user.create", "user", u.ID), nil,
			map[string]any{"email": u.Email, "platform_admin": true})
	})
	if err != nil {
		return fmt.Errorf("first-run administrator: %w", err)
	}
	if !created {
		return nil
	}
	fmt.Fprintf(out, `
First run: a platform administrator was created. Sign in at %s/login with
    email:    %s
    password: %s
This password is shown only once and must be changed at the first sign-in;
"portico admin reset-password" issues a new one.

`, issuer, firstAdmin, password)
	return nil
}

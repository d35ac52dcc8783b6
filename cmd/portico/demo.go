package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"portico/federation/pool"
	"portico/store"
)

// demoPassword is the password of every demo account; demo data is for
// trying Portico on a laptop, never for production.
const demoPassword = "portico-demo-password"

// seedDemo adds, once, a partner organization on a plan with people in
// different groups, so every flow can be tried at once.
func seedDemo(ctx context.Context, st *store.Store, out io.Writer) error {
	if _, err := st.OrganizationBySlug(ctx, "acme"); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash, err := pool.HashPassword(demoPassword)
	if err != nil {
		return err
	}
	actor := store.Actor{Label: "demo"}
	err = st.InTx(ctx, func(tx *store.Store) error {
		gold := store.Plan{Slug: "gold", Name: "Gold", Features: []store.Feature{
			{Name: "inventory", Scopes: []string{"inventory:read", "inventory:write"}, AppTypes: []string{"web", "spa", "native", "service"}, MaxApps: 10},
			{Name: "payments", Scopes: []string{"payments:read", "payments:write"}, AppTypes: []string{"web", "service"}},
		}}
		if err := tx.CreatePlan(ctx, &gold); err != nil {
			return err
		}
		acme := store.Organization{Slug: "acme", Name: "Acme Logistics", Domains: []string{"acme.example"}, PlanID: gold.ID}
		if err := tx.CreateOrganization(ctx, &acme); err != nil {
			return err
		}
		if err := tx.Audit(ctx, actor.Event(acme.ID, "org.create", "organization", acme.ID), nil, acme); err != nil {
			return err
		}
		people := []store.User{
			{Email: "alice@acme.example", Name: "Alice Admin", Role: store.RoleAdmin, LocalGroups: []string{"admins"}},
			{Email: "dev@acme.example", Name: "Dana Developer", Role: store.RoleDeveloper, LocalGroups: []string{"developers"}},
			{Email: "carl@acme.example", Name: "Carl Contractor", Role: store.RoleMember, LocalGroups: []string{"contractors"}},
			{Email: "sam@acme.example", Name: "Sam Sales", Role: store.RoleMember, LocalGroups: []string{"sales"},
				Attributes: map[string]string{"department": "sales"}},
		}
		for _, u := range people {
			u.OrgID, u.PasswordHash, u.EmailVerified = acme.ID, hash, true
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `Demo data: organization "acme" (plan gold) with alice@ (org admin), dev@ (developer),
carl@ (contractor) and sam@ (sales), all @acme.example, password %q.
`, demoPassword)
	return nil
}

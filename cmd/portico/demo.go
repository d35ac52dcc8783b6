package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"

	"portico/authserver"
	"portico/demoapp"
	"portico/federation/pool"
	"portico/policyeditor"
	"portico/store"
)

// demoPassword is the password of every demo account; demo data is for
// trying Portico on a laptop, never for production.
const demoPassword = "portico-demo-password"

// seedDemo adds, once, a partner organization on a plan with people in
// different groups, so every flow can be tried at once.
func seedDemo(ctx context.Context, st *store.Store, reg *authserver.Registrar, out io.Writer) error {
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
				Attributes: map[string]string{"department": "sales", "assigned_customers": "c-1,c-2"}},
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
	svc, secret, err := seedDemoApps(ctx, st, reg, actor)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `Demo data: organization "acme" (plan gold) with alice@ (org admin), dev@ (developer),
carl@ (contractor) and sam@ (sales), all @acme.example, password %q.
Its "Team wiki" (the demo app at /demo-app, which shows the ID token's claims) is guarded by IBM's example policy (new location: MFA; developers and
contractors: permit; others: deny). Its service app "Inventory sync" has
    client_id:     %s
    client_secret: %s
(shown only now) for client_credentials at the token endpoint.
API calls under /customers that a gateway puts to /authz are decided by the
"Customers API" policy: sam@ reads customers c-1 and c-2 only.
`, demoPassword, svc.ClientID, secret)
	return nil
}

// seedDemoApps registers the demo organization's two apps through the same
// Registrar the portal uses, and attaches IBM's example to the web app.
func seedDemoApps(ctx context.Context, st *store.Store, reg *authserver.Registrar, actor store.Actor) (store.Client, string, error) {
	acme, err := st.OrganizationBySlug(ctx, "acme")
	if err != nil {
		return store.Client{}, "", err
	}
	ra := authserver.Actor{Label: actor.Label}
	for _, sc := range []string{"inventory:read", "inventory:write", "payments:read", "payments:write"} {
		if _, err := reg.CreateScope(ctx, ra, sc, "Demo API scope"); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return store.Client{}, "", fmt.Errorf("scope %s: %w", sc, err)
		}
	}
	wiki, _, err := reg.Register(ctx, acme.ID, ra, authserver.RegisterInput{Name: "Team wiki", Type: store.ClientWeb,
		RedirectURIs: []string{"https://wiki.acme.example/callback"}, Scopes: []string{"inventory:read"},
		LaunchURL: "https://wiki.acme.example/login"})
	if err != nil {
		return store.Client{}, "", fmt.Errorf("demo web app: %w", err)
	}
	svc, secret, err := reg.Register(ctx, acme.ID, ra, authserver.RegisterInput{Name: "Inventory sync",
		Type: store.ClientService, Scopes: []string{"inventory:read", "inventory:write"}})
	if err != nil {
		return store.Client{}, "", fmt.Errorf("demo service app: %w", err)
	}
	policies := &policyeditor.Service{Store: st}
	saved, err := policies.Import(ctx, actor, []byte(demoPolicy))
	if err != nil {
		return store.Client{}, "", err
	}
	if err := policies.Attach(ctx, actor, saved.Policy.ID, policyeditor.Target{ClientID: wiki.ClientID}); err != nil {
		return store.Client{}, "", err
	}
	// Resource-level access at the gateway: Sam Sales reads only the
	// customers assigned to him.
	api, err := policies.Import(ctx, actor, []byte(demoAPIPolicy))
	if err != nil {
		return store.Client{}, "", err
	}
	if err := policies.AttachRoute(ctx, actor, api.Policy.ID, store.APIRoute{PathPrefix: "/customers"}); err != nil {
		return store.Client{}, "", err
	}
	return svc, secret, nil
}

// demoPolicy is DESIGN.md's example from IBM.
const demoPolicy = `{"name":"Development portal access","description":"IBM's example","kind":"user_access",
  "rules":[{"name":"New location needs MFA","conditions":[{"type":"location","new":true}],"action":"challenge"},
           {"name":"Developers and contractors","conditions":[{"type":"group","any_of":["contractors","developers"]}],"action":"permit"}],
  "default":"deny"}`

// demoAPIPolicy is issue 14's seed example, as policyeditor/testdata/api_customers.json.
const demoAPIPolicy = `{"name":"Customers API","description":"A sales rep sees only the customers assigned to them","kind":"api_request",
  "rules":[{"name":"Only Acme's people","conditions":[{"type":"org","in":["acme"],"negate":true}],"action":"deny"},
           {"name":"Customer admins manage every customer","conditions":[{"type":"group","any_of":["customer-admins"]},
             {"type":"path","in":["/customers","/customers/**"]}],"action":"permit"},
           {"name":"Sales reps read their own customers","conditions":[{"type":"method","in":["GET","HEAD"]},
             {"type":"path","in":["/customers/{id}","/customers/{id}/**"]},
             {"type":"param_in_attribute","param":"id","attribute":"assigned_customers"}],"action":"permit"}],
  "default":"deny"}`

// demoWikiName is the demo web app, served by Portico itself (package
// demoapp) so a launch in the demo ends on a real relying party.
const demoWikiName = "Team wiki"

// demoApp returns the demo relying party for the demo organization's web
// app, registered at this issuer: its redirect and launch URLs follow the
// issuer (a laptop's port may change between runs), and a fresh secret is
// set at each start, since a secret is never stored in the clear. Nil
// when there is no such app.
func demoApp(ctx context.Context, st *store.Store, reg *authserver.Registrar, issuer string, log *slog.Logger) (http.Handler, error) {
	acme, err := st.OrganizationBySlug(ctx, "acme")
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	apps, err := st.Clients(ctx, acme.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(apps, func(c store.Client) bool { return c.Name == demoWikiName })
	if i < 0 {
		return nil, nil
	}
	wiki := apps[i]
	ra := authserver.Actor{Label: "demo"}
	scopes := slices.Clone(wiki.Scopes)
	for _, s := range []string{"openid", "profile", "email", "groups"} {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	redirect, launch := demoapp.RedirectURI(issuer), demoapp.LaunchURL(issuer)
	if !slices.Equal(wiki.RedirectURIs, []string{redirect}) || wiki.LaunchURL != launch || len(scopes) != len(wiki.Scopes) {
		if _, err := reg.Update(ctx, acme.ID, wiki.ClientID, ra, authserver.RegisterInput{Name: wiki.Name, Type: wiki.Type,
			RedirectURIs: []string{redirect}, Scopes: scopes, LaunchURL: launch, LogoURL: wiki.LogoURL}); err != nil {
			return nil, fmt.Errorf("demo app: %w", err)
		}
	}
	_, secret, err := reg.RotateSecret(ctx, acme.ID, wiki.ClientID, ra, 0)
	if err != nil {
		return nil, fmt.Errorf("demo app secret: %w", err)
	}
	return &demoapp.App{Issuer: issuer, ClientID: wiki.ClientID, ClientSecret: secret, Log: log}, nil
}

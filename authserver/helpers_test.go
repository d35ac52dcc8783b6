package authserver_test

import (
	"portico/authserver"
	"portico/store"
)

func storeOrg(w *world, slug string) store.Organization {
	w.t.Helper()
	o := store.Organization{Slug: slug, Name: slug}
	if err := w.st.CreateOrganization(w.ctx, &o); err != nil {
		w.t.Fatal(err)
	}
	return o
}

func registerService() authserver.RegisterInput {
	return authserver.RegisterInput{Name: "svc", Type: store.ClientService, Scopes: []string{"orders:read"},
		GrantTypes: []string{"client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"}}
}

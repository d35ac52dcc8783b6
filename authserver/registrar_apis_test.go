package authserver_test

import (
	"errors"
	"testing"
	"time"

	"portico/authserver"
	"portico/store"
)

func TestRegistrarAPIValidation(t *testing.T) {
	w := newWorld(t)
	if _, _, err := w.st.UpdateOrganization(w.ctx, w.org.ID, func(o *store.Organization) error {
		o.Domains = []string{"acme.example"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ok := authserver.APIInput{Identifier: "https://api.acme.example/v1", Name: "Acme API",
		Scopes: []store.APIScope{{Name: "acme:read"}}, TokenLifetime: 5 * time.Minute}
	cases := []struct {
		name  string
		org   string
		edit  func(*authserver.APIInput)
		field string
	}{
		{"not a URI", "", func(in *authserver.APIInput) { in.Identifier = "api" }, "identifier"},
		{"http on a public host", "", func(in *authserver.APIInput) { in.Identifier = "http://api.example.com/" }, "identifier"},
		{"fragment", "", func(in *authserver.APIInput) { in.Identifier = "https://api.example.com/#x" }, "identifier"},
		{"query", "", func(in *authserver.APIInput) { in.Identifier = "https://api.example.com/?a=b" }, "identifier"},
		{"organization naming another's host", "ORG", func(in *authserver.APIInput) { in.Identifier = "https://api.other.example/" }, "identifier"},
		{"no name", "", func(in *authserver.APIInput) { in.Name = "" }, "name"},
		{"no scopes", "", func(in *authserver.APIInput) { in.Scopes = nil }, "scopes"},
		{"built-in scope", "", func(in *authserver.APIInput) { in.Scopes = []store.APIScope{{Name: "openid"}} }, "scopes[0]"},
		{"portal scope taken", "", func(in *authserver.APIInput) { in.Scopes = []store.APIScope{{Name: "orders:read"}} }, "scopes[0]"},
		{"duplicate scope", "", func(in *authserver.APIInput) {
			in.Scopes = []store.APIScope{{Name: "a:b"}, {Name: "a:b"}}
		}, "scopes[1]"},
		{"lifetime too short", "", func(in *authserver.APIInput) { in.TokenLifetime = time.Second }, "token_lifetime"},
		{"organization opening to a plan", "ORG", func(in *authserver.APIInput) { in.AllowedPlans = []string{w.org.PlanID} }, "allowed_plans"},
		{"unknown plan", "", func(in *authserver.APIInput) { in.AllowedPlans = []string{"nope"} }, "allowed_plans[0]"},
		{"unknown organization", "", func(in *authserver.APIInput) { in.AllowedOrgs = []string{"nope"} }, "allowed_orgs[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			tc.edit(&in)
			org := ""
			if tc.org == "ORG" {
				org = w.org.ID
			}
			_, err := w.reg.CreateAPI(w.ctx, org, cli, in)
			var ve *authserver.ValidationError
			if !errors.As(err, &ve) || ve.For(tc.field) == "" {
				t.Fatalf("want a message for %s, got %v", tc.field, err)
			}
		})
	}
	a, err := w.reg.CreateAPI(w.ctx, w.org.ID, cli, ok)
	if err != nil {
		t.Fatal(err)
	}
	// Another organization neither sees nor changes it; its owner can.
	other := storeOrg(w, "globex")
	if _, err := w.reg.UpdateAPI(w.ctx, other.ID, a.ID, cli, ok); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update by another org: %v", err)
	}
	if err := w.reg.DeleteAPI(w.ctx, other.ID, a.ID, cli); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete by another org: %v", err)
	}
	ok.Scopes = append(ok.Scopes, store.APIScope{Name: "acme:write"})
	if got, err := w.reg.UpdateAPI(w.ctx, w.org.ID, a.ID, cli, ok); err != nil || len(got.Scopes) != 2 {
		t.Fatalf("update by owner: %+v %v", got, err)
	}
	if err := w.reg.DeleteAPI(w.ctx, "", a.ID, cli); err != nil {
		t.Fatalf("platform delete: %v", err)
	}
	events, _ := w.st.AuditEvents(w.ctx, store.AuditFilter{})
	n := 0
	for _, e := range events {
		if e.TargetType == "api" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("audit events for the API: %d", n)
	}
}

package partners_test

import (
	"context"
	"errors"
	"testing"

	"portico/partners"
	"portico/store"
)

// TestConflictsNameTheirField: a taken slug is reported on "slug", a domain
// of another organization on "domains", and neither change is stored.
func TestConflictsNameTheirField(t *testing.T) {
	ctx := context.Background()
	st, svc := open(t)
	str := func(s string) *string { return &s }
	domains := []string{"acme.example"}
	if _, err := svc.CreateOrg(ctx, store.Actor{Label: "test"}, partners.OrgInput{Slug: str("acme"), Name: str("Acme"), Domains: &domains}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, slug, field string
	}{
		{"taken slug", "acme", "slug"},
		{"domain of another organization", "globex", "domains"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := svc.CreateOrg(ctx, store.Actor{Label: "test"}, partners.OrgInput{Slug: str(c.slug), Name: str("X"), Domains: &domains})
			var fe partners.FieldErrors
			if !errors.As(err, &fe) || fe[c.field] == "" || len(fe) != 1 {
				t.Fatalf("got %v, want one error on %q", err, c.field)
			}
		})
	}
	if _, err := st.OrganizationBySlug(ctx, "globex"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused organization was stored: %v", err)
	}
}

package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"portico/store"
)

// TestTrustedIssuersAreOrgScopedAndJTIsSingleUse: another organization's
// issuer is not found (read, delete, bind); a jti is accepted once per
// issuer, by the INSERT's row count; expired jtis are purged.
func TestTrustedIssuersAreOrgScopedAndJTIsSingleUse(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := store.Organization{Slug: "a", Name: "A"}, store.Organization{Slug: "b", Name: "B"}
	for _, o := range []*store.Organization{&a, &b} {
		if err := s.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	ti := store.TrustedIssuer{OrgID: a.ID, Issuer: "https://idp.example", SubjectClaim: "sub",
		Audiences: []string{"x"}, Algorithms: []string{"ES256"}, MaxAge: time.Minute,
		AttributeClaims: map[string]string{"dept": "department"}}
	if err := s.CreateTrustedIssuer(ctx, &ti); err != nil {
		t.Fatal(err)
	}
	got, err := s.TrustedIssuerByURL(ctx, a.ID, "https://idp.example")
	if err != nil || got.MaxAge != time.Minute || got.AttributeClaims["dept"] != "department" || got.Algorithms[0] != "ES256" {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if _, err := s.TrustedIssuer(ctx, b.ID, ti.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org read: %v", err)
	}
	if err := s.DeleteTrustedIssuer(ctx, b.ID, ti.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org delete: %v", err)
	}
	if elsewhere, _ := s.TrustedIssuerRegisteredElsewhere(ctx, b.ID, ti.Issuer); !elsewhere {
		t.Fatal("not seen as registered elsewhere")
	}
	now := time.Now()
	for i, want := range []bool{true, false} {
		fresh, err := s.UseIssuerJTI(ctx, ti.ID, "j1", now.Add(time.Minute))
		if err != nil || fresh != want {
			t.Fatalf("use %d: fresh=%v err=%v", i, fresh, err)
		}
	}
	if n, err := s.PurgeIssuerJTIs(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if fresh, _ := s.UseIssuerJTI(ctx, ti.ID, "j1", now.Add(time.Minute)); !fresh {
		t.Fatal("a purged jti is still seen")
	}
	if err := s.DeleteTrustedIssuer(ctx, a.ID, ti.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.TrustedIssuerExists(ctx, a.ID, ti.ID); ok {
		t.Fatal("deleted issuer still exists")
	}
}

package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"portico/store"
)

// A user's groups (what a policy request carries) are the union of their
// memberships, whatever the source, and follow every membership change.
func TestGroupMembershipIsTheUserGroups(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	o, other := mustOrg(t, s, "acme"), mustOrg(t, s, "globex")
	u := store.User{OrgID: o.ID, Email: "a@acme.test", Name: "A", Role: store.RoleMember, LocalGroups: []string{"developers"}}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	dir := store.Group{OrgID: o.ID, Name: "contractors", Source: store.GroupSCIM, ExternalID: "okta-1"}
	if err := s.CreateGroup(ctx, &dir); err != nil {
		t.Fatal(err)
	}
	if added, err := s.AddGroupMember(ctx, o.ID, dir.ID, u.ID); err != nil || !added {
		t.Fatalf("add: %v %v", added, err)
	}
	if err := s.SetUserIdPGroups(ctx, o.ID, u.ID, []string{"eng"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.User(ctx, o.ID, u.ID)
	if want := []string{"contractors", "developers", "eng"}; !slices.Equal(got.Groups(), want) {
		t.Fatalf("groups = %v, want %v", got.Groups(), want)
	}
	gs, _ := s.Groups(ctx, o.ID)
	if len(gs) != 3 {
		t.Fatalf("org groups = %+v", gs)
	}
	if err := s.DeleteGroup(ctx, o.ID, dir.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserIdPGroups(ctx, o.ID, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = s.User(ctx, o.ID, u.ID)
	if want := []string{"developers"}; !slices.Equal(got.Groups(), want) {
		t.Fatalf("groups = %v, want %v", got.Groups(), want)
	}
	// Another organization's group or user is not found.
	og := store.Group{OrgID: other.ID, Name: "x", Source: store.GroupLocal}
	if err := s.CreateGroup(ctx, &og); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddGroupMember(ctx, o.ID, og.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org add: %v", err)
	}
	if _, err := s.AddGroupMember(ctx, other.ID, og.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org user: %v", err)
	}
	if err := s.DeleteGroup(ctx, o.ID, og.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cross-org delete: %v", err)
	}
	dup := store.Group{OrgID: o.ID, Name: "developers", Source: store.GroupLocal}
	if err := s.CreateGroup(ctx, &dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
}

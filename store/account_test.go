package store_test

import (
	"context"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// TestAccountSelfService: the password-change requirement is set once and
// cleared; ending the other sessions keeps the one named; a target's history
// holds only its events with the prefix, newest first, and never another
// target's.
func TestAccountSelfService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		org := mustOrg(t, s, "acme")
		u := store.User{OrgID: org.ID, Email: "a@acme.example", Name: "A", Role: store.RoleMember}
		other := store.User{OrgID: org.ID, Email: "b@acme.example", Name: "B", Role: store.RoleMember}
		for _, x := range []*store.User{&u, &other} {
			if err := s.CreateUser(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := s.PasswordChangeRequired(ctx, u.ID); err != nil || ok {
			t.Fatalf("required before asked: %v %v", ok, err)
		}
		for range 2 {
			if err := s.RequirePasswordChange(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := s.PasswordChangeRequired(ctx, u.ID); !ok {
			t.Fatal("not required after RequirePasswordChange")
		}
		if ok, _ := s.PasswordChangeRequired(ctx, other.ID); ok {
			t.Fatal("another user is required too")
		}
		if err := s.PasswordChanged(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.PasswordChangeRequired(ctx, u.ID); ok {
			t.Fatal("still required after PasswordChanged")
		}

		now := time.Now()
		var ids []string
		for range 3 {
			x := store.Session{UserID: u.ID, ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateSession(ctx, &x, store.NewID()); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, x.ID)
		}
		theirs := store.Session{UserID: other.ID, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, &theirs, store.NewID()); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteOtherSessions(ctx, u.ID, ids[1]); err != nil {
			t.Fatal(err)
		}
		left, err := s.UserSessions(ctx, u.ID, now)
		if err != nil || len(left) != 1 || left[0].ID != ids[1] {
			t.Fatalf("sessions left: %+v %v", left, err)
		}
		if l, _ := s.UserSessions(ctx, other.ID, now); len(l) != 1 {
			t.Fatalf("another user's session ended: %+v", l)
		}

		base := time.UnixMilli(now.UnixMilli())
		for i, a := range []string{"signin.success", "user.update", "signin.failure", "signinx", "signin.lockout"} {
			ev := store.Actor{UserID: u.ID, Label: u.Email}.Event(org.ID, a, "user", u.ID)
			ev.At = base.Add(time.Duration(i) * time.Second)
			if err := s.RecordAudit(ctx, &ev); err != nil {
				t.Fatal(err)
			}
		}
		ev := store.Actor{}.Event(org.ID, "signin.success", "user", other.ID)
		if err := s.RecordAudit(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		got, err := s.TargetAudit(ctx, "user", u.ID, "signin.", 10)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, g := range got {
			actions = append(actions, g.Action)
		}
		if want := "signin.lockout signin.failure signin.success"; joinWords(actions) != want {
			t.Fatalf("history = %q, want %q", joinWords(actions), want)
		}
		if got, _ := s.TargetAudit(ctx, "user", u.ID, "signin.", 1); len(got) != 1 {
			t.Fatalf("limit 1 gave %d", len(got))
		}
	})
}

func joinWords(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

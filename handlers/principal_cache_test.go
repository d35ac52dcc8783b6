package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
	"portico/store/storetest"
)

// otherReplica is a second Store on the harness's database: another portal
// replica or the CLI, whose commits this portal learns of only through the
// store's data version.
func otherReplica(t *testing.T, h *handlerstest.Harness) *store.Store {
	t.Helper()
	return storetest.OpenDSN(t, h.DSN)
}

// replicaDelay is how long a change made elsewhere may take to be seen
// (the guarantee is 20 ms; the margin is for a loaded test machine).
const replicaDelay = 40 * time.Millisecond

// sessionOf returns the browser's live session row.
func sessionOf(t *testing.T, h *handlerstest.Harness, u store.User) store.Session {
	t.Helper()
	list, err := h.Store.UserSessions(context.Background(), u.ID, time.Now())
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions of %s: %v %d", u.Email, err, len(list))
	}
	return list[0]
}

// TestCachedSessionServesRepeatRequests: the principal cache really answers
// repeat requests (so the tests below are not vacuous): a change that does
// not move the data version — an activity touch, which only the cache's own
// activity stamps supersede — is not seen, while one that does is seen by
// the very next request.
func TestCachedSessionServesRepeatRequests(t *testing.T) {
	h := handlerstest.New(t)
	ctx := context.Background()
	org := h.Org(t, "acme", "acme.example")
	u := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	b := h.Client(t)
	b.Login(u.Email, pw)
	if !hasSession(b) {
		t.Fatal("not signed in")
	}
	s := sessionOf(t, h, u)
	// Expired in the row, through the quiet touch: the cache still serves.
	past := time.Now().Add(-time.Minute)
	if err := h.Store.TouchSession(ctx, s.ID, past, past); err != nil {
		t.Fatal(err)
	}
	if !hasSession(b) {
		t.Fatal("the repeat request read the session row: the principal cache did not answer")
	}
	// Any change that moves the version sends the next request to the store.
	if err := h.Store.PutSetting(ctx, "unrelated", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if hasSession(b) {
		t.Fatal("a session expired in the store survived a change of the data version")
	}
}

// TestEndedSessionsEndAtOnce: every way a session ends is seen by the next
// request — at once when this portal made the change, within 20 ms when
// another replica or the CLI did — although the session was cached.
func TestEndedSessionsEndAtOnce(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, st *store.Store, org store.Organization, u store.User, s store.Session)
		// status of the next request to /account: 303 to sign-in, or 403
		// with the reason.
		want int
	}{
		{"end the session", func(t *testing.T, st *store.Store, _ store.Organization, u store.User, s store.Session) {
			if err := st.DeleteSession(ctx, u.ID, s.ID); err != nil {
				t.Fatal(err)
			}
		}, http.StatusSeeOther},
		{"end every session (password change or reset)", func(t *testing.T, st *store.Store, _ store.Organization, u store.User, _ store.Session) {
			if err := st.DeleteUserSessions(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}, http.StatusSeeOther},
		{"end the other sessions", func(t *testing.T, st *store.Store, _ store.Organization, u store.User, _ store.Session) {
			if err := st.DeleteOtherSessions(ctx, u.ID, "another"); err != nil {
				t.Fatal(err)
			}
		}, http.StatusSeeOther},
		{"disable the user", func(t *testing.T, st *store.Store, org store.Organization, u store.User, _ store.Session) {
			if _, _, err := st.UpdateUser(ctx, org.ID, u.ID, func(x *store.User) error { x.Status = store.UserDisabled; return nil }); err != nil {
				t.Fatal(err)
			}
		}, http.StatusForbidden},
		{"remove the member", func(t *testing.T, st *store.Store, org store.Organization, u store.User, _ store.Session) {
			if err := st.DeleteUser(ctx, org.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}, http.StatusSeeOther},
		{"suspend the organization", func(t *testing.T, st *store.Store, org store.Organization, _ store.User, _ store.Session) {
			if _, _, err := st.UpdateOrganization(ctx, org.ID, func(o *store.Organization) error { o.Status = store.OrgSuspended; return nil }); err != nil {
				t.Fatal(err)
			}
		}, http.StatusForbidden},
		{"rotate the session elsewhere", func(t *testing.T, st *store.Store, _ store.Organization, u store.User, s store.Session) {
			if err := st.RotateSession(ctx, u.ID, s.ID, store.NewID(), "another-token-hash", s.Privilege); err != nil {
				t.Fatal(err)
			}
		}, http.StatusSeeOther},
	} {
		for _, where := range []string{"this portal", "another replica"} {
			t.Run(tc.name+"/"+where, func(t *testing.T) {
				h := handlerstest.New(t)
				org := h.Org(t, "acme", "acme.example")
				u := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
				b := h.Client(t)
				b.Login(u.Email, pw)
				for range 3 { // fill the cache and use it
					if !hasSession(b) {
						t.Fatal("not signed in")
					}
				}
				st := h.Store
				if where == "another replica" {
					st = otherReplica(t, h)
				}
				tc.end(t, st, org, u, sessionOf(t, h, u))
				if where == "another replica" {
					time.Sleep(replicaDelay)
				}
				if r := b.Get("/account"); r.StatusCode != tc.want {
					t.Fatalf("next request: %d, want %d", r.StatusCode, tc.want)
				}
			})
		}
	}
}

// TestIdleSessionEndsThoughCached: a cached session ends after the idle
// timeout without use, and activity keeps it alive (written back at most
// once a minute, without emptying the caches).
func TestIdleSessionEndsThoughCached(t *testing.T) {
	clk := newClock()
	h := handlerstest.New(t, func(c *handlers.Config) { c.Now, c.Store.Now = clk.Now, clk.Now })
	org := h.Org(t, "acme", "acme.example")
	u := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	b := h.Client(t)
	b.Login(u.Email, pw)
	for range 3 {
		if !hasSession(b) {
			t.Fatal("not signed in")
		}
	}
	v := storetest.SettledVersion(t, h.Store)
	for range 3 { // eleven hours apart: each request slides the idle timeout
		clk.Advance(11 * time.Hour)
		if !hasSession(b) {
			t.Fatal("an active session ended")
		}
	}
	if got, _ := h.Store.DataVersion(context.Background()); got != v {
		t.Fatalf("the activity touch moved the data version: %d -> %d", v, got)
	}
	if s := sessionOf(t, h, u); !s.LastSeenAt.Equal(clk.Now().Truncate(time.Millisecond)) {
		t.Fatalf("activity not written back: last seen %v, now %v", s.LastSeenAt, clk.Now())
	}
	clk.Advance(12*time.Hour + time.Minute)
	if hasSession(b) {
		t.Fatal("a session idle for more than 12 hours is still open")
	}
}

// TestPasswordChangeRequiredThoughCached: an administrator's reset (here or
// on another replica) that requires a new password sends the person's next
// request to the form, although their session was cached.
func TestPasswordChangeRequiredThoughCached(t *testing.T) {
	for _, where := range []string{"this portal", "another replica"} {
		t.Run(where, func(t *testing.T) {
			h := handlerstest.New(t)
			org := h.Org(t, "acme", "acme.example")
			u := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
			b := h.Client(t)
			b.Login(u.Email, pw)
			for range 3 {
				if r := b.Get("/"); r.StatusCode != http.StatusOK {
					t.Fatalf("dashboard: %d", r.StatusCode)
				}
			}
			st := h.Store
			if where == "another replica" {
				st = otherReplica(t, h)
			}
			if err := st.RequirePasswordChange(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			if where == "another replica" {
				time.Sleep(replicaDelay)
			}
			if r := b.Get("/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account/password" {
				t.Fatalf("after the requirement: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
		})
	}
}

// TestCachedSessionUnderConcurrentRequests: many requests on one session at
// once share the cached principal (run with -race), and once the session is
// ended every later request is signed out.
func TestCachedSessionUnderConcurrentRequests(t *testing.T) {
	h := handlerstest.New(t)
	org := h.Org(t, "acme", "acme.example")
	u := h.User(t, org, "ann@acme.example", store.RoleMember, pw)
	b := h.Client(t)
	b.Login(u.Email, pw)
	run := func(want int) {
		errs := make(chan int, 64)
		for range 8 {
			go func() {
				for range 8 {
					if r := b.Get("/account"); r.StatusCode != want {
						errs <- r.StatusCode
						return
					}
				}
				errs <- 0
			}()
		}
		for range 8 {
			if got := <-errs; got != 0 {
				t.Fatalf("a concurrent request got %d, want %d", got, want)
			}
		}
	}
	run(http.StatusOK)
	if err := h.Store.DeleteUserSessions(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	run(http.StatusSeeOther)
}

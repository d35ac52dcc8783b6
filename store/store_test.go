package store_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

// open opens a fresh store on the engine PORTICO_TEST_ENGINE chooses (the
// tests main added before PostgreSQL, run on either engine).
func open(t *testing.T) *store.Store {
	t.Helper()
	return storetest.Open(t)
}

func mustOrg(t *testing.T, s *store.Store, slug string, domains ...string) store.Organization {
	t.Helper()
	o := store.Organization{Slug: slug, Name: slug, Domains: domains}
	if err := s.CreateOrganization(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOrganizations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		acme := mustOrg(t, s, "acme", "Acme.example", "acme.test")
		if err := s.CreateOrganization(ctx, &store.Organization{Slug: "acme", Name: "Again"}); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("duplicate slug: got %v, want ErrAlreadyExists", err)
		}
		if err := s.CreateOrganization(ctx, &store.Organization{Slug: "other", Name: "Other", Domains: []string{"acme.test"}}); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("duplicate domain: got %v, want ErrAlreadyExists", err)
		}
		if _, err := s.OrganizationBySlug(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("failed create left a row behind: %v", err)
		}
		got, err := s.OrganizationByDomain(ctx, "ACME.example")
		if err != nil || got.ID != acme.ID {
			t.Fatalf("by domain: %v %+v", err, got)
		}
		end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		before, after, err := s.UpdateOrganization(ctx, acme.ID, func(o *store.Organization) error {
			o.ValidUntil = end
			o.Domains = append(o.Domains, "new.example")
			return nil
		})
		if err != nil || !before.ValidUntil.IsZero() || !after.ValidUntil.Equal(end) || len(after.Domains) != 3 {
			t.Fatalf("update: %v before=%+v after=%+v", err, before, after)
		}
		if r := after.InactiveReason(end.Add(-time.Second)); r != "" {
			t.Errorf("inside window: %q", r)
		}
		if r := after.InactiveReason(end); r == "" {
			t.Error("at valid_until the partnership must have ended")
		}
	})
}

func TestUsersAreScopedToTheirOrganization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		a, b := mustOrg(t, s, "a"), mustOrg(t, s, "b")
		u := store.User{OrgID: a.ID, Email: "Ann@A.example", Name: "Ann", Role: store.RoleMember,
			IdPGroups: []string{"x", "y"}, LocalGroups: []string{"y", "z"}}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		if _, err := s.User(ctx, b.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cross-org read: %v", err)
		}
		if _, _, err := s.UpdateUser(ctx, b.ID, u.ID, func(*store.User) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cross-org update: %v", err)
		}
		if err := s.DeleteUser(ctx, b.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cross-org delete: %v", err)
		}
		list, err := s.Users(ctx, b.ID)
		if err != nil || len(list) != 0 {
			t.Fatalf("cross-org list: %v %v", err, list)
		}
		got, err := s.UserByEmail(ctx, a.ID, "ann@a.example")
		if err != nil {
			t.Fatal(err)
		}
		if g := got.Groups(); len(g) != 3 || g[0] != "x" || g[2] != "z" {
			t.Errorf("groups = %v", g)
		}
	})
}

func TestInTxRollsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx *store.Store) error {
			if err := tx.CreateOrganization(ctx, &store.Organization{Slug: "gone", Name: "Gone"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := s.OrganizationBySlug(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled-back row is visible: %v", err)
		}
	})
}

func TestDataVersionSeesOtherWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		path := e.DSN(t)
		s, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		v1, err := s.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		other, err := store.Open(ctx, path) // stands in for the CLI in another process
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		mustOrg(t, other, "x")
		// PostgreSQL delivers the change as a notification: allow it a second.
		deadline := time.Now().Add(time.Second)
		for {
			v2, err := s.DataVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v2 != v1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("data version did not change within a second after another connection committed")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func TestSealer(t *testing.T) {
	key := make([]byte, 32)
	sl, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := sl.Seal([]byte("secret"), "k1")
	if got, err := sl.Open(sealed, "k1"); err != nil || string(got) != "secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := sl.Open(sealed, "k2"); err == nil {
		t.Fatal("a value sealed for one purpose opened for another")
	}
}

// TestReopenIsIdempotent opens the same database twice: the second open
// finds every migration applied and changes nothing.
func TestReopenIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		path := e.DSN(t)
		for i := 0; i < 2; i++ {
			s, err := store.Open(ctx, path)
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			s.Close()
		}
	})
}

// TestChangeTriggersMatchTheCode checks, on PostgreSQL, that the tables with
// a portico_changes trigger are exactly those the store counts as read by
// caches: a table added to one list and not the other would leave caches
// stale on other replicas or on this one.
func TestChangeTriggersMatchTheCode(t *testing.T) {
	s := storetest.OpenDSN(t, storetest.PostgresDSN(t))
	rows, err := s.DB().Query(`SELECT DISTINCT event_object_table FROM information_schema.triggers
		WHERE action_statement LIKE '%portico_notify_change%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got[n] = true
	}
	for n := range got {
		if !store.NotifyingTables[n] {
			t.Errorf("table %s has a change trigger but is not in notifyingTables", n)
		}
	}
	for n := range store.NotifyingTables {
		if !got[n] {
			t.Errorf("table %s is in notifyingTables but has no change trigger", n)
		}
	}
}

// TestQuietColumnsMatchTheTriggers checks, on PostgreSQL, that the columns
// each change trigger's UPDATE OF list leaves out are exactly the table's
// quietColumns: a column added to a table and not to its trigger's list
// would change without telling the other replicas, and one quiet in the
// code but listed in the trigger would empty every cache on each touch.
func TestQuietColumnsMatchTheTriggers(t *testing.T) {
	s := storetest.OpenDSN(t, storetest.PostgresDSN(t))
	rows, err := s.DB().Query(`SELECT c.relname, a.attname, a.attnum = ANY (t.tgattr::int2[]), cardinality(t.tgattr::int2[])
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
		JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE p.proname = 'portico_notify_change' AND t.tgtype & 16 <> 0 AND pg_table_is_visible(c.oid)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	quiet := map[string]map[string]bool{}
	for rows.Next() {
		var table, col string
		var listed bool
		var n int
		if err := rows.Scan(&table, &col, &listed, &n); err != nil {
			t.Fatal(err)
		}
		if quiet[table] == nil {
			quiet[table] = map[string]bool{}
		}
		if n > 0 && !listed {
			quiet[table][col] = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for table := range store.NotifyingTables {
		got, want := quiet[table], store.QuietColumns[table]
		if got == nil {
			t.Errorf("table %s has no UPDATE change trigger", table)
			continue
		}
		if !maps.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("table %s: its trigger leaves out %v on UPDATE, quietColumns %v", table, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
	}
}

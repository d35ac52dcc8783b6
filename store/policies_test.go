package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"portico/store"
	"portico/store/storetest"
)

func TestPolicyVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		p := store.Policy{Name: "Dev portal", Kind: "user_access"}
		v1 := store.PolicyVersion{Document: json.RawMessage(`{"v":1}`), Author: "ann@example.com"}
		if err := s.CreatePolicy(ctx, &p, &v1); err != nil {
			t.Fatal(err)
		}
		if p.CurrentVersion != 1 || v1.Version != 1 || v1.PolicyID != p.ID {
			t.Fatalf("create: %+v %+v", p, v1)
		}
		if err := s.CreatePolicy(ctx, &store.Policy{Name: "Dev portal", Kind: "user_access"}, &store.PolicyVersion{Document: json.RawMessage(`{}`), Author: "x"}); !errors.Is(err, store.ErrAlreadyExists) {
			t.Fatalf("duplicate name: %v", err)
		}
		v2 := store.PolicyVersion{Document: json.RawMessage(`{"v":2}`), Author: "bob@example.com", Note: "tightened"}
		p.Description = "now with a description"
		if err := s.AddPolicyVersion(ctx, &p, 1, &v2); err != nil {
			t.Fatal(err)
		}
		stale := store.PolicyVersion{Document: json.RawMessage(`{"v":"stale"}`), Author: "eve"}
		if err := s.AddPolicyVersion(ctx, &p, 1, &stale); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale base: %v", err)
		}
		got, cur, err := s.CurrentPolicyVersion(ctx, p.ID)
		if err != nil || got.CurrentVersion != 2 || string(cur.Document) != `{"v":2}` || got.Description != p.Description {
			t.Fatalf("current: %v %+v %s", err, got, cur.Document)
		}
		vs, err := s.PolicyVersions(ctx, p.ID)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Author != "ann@example.com" || vs[0].Note != "tightened" {
			t.Fatalf("versions: %v %+v", err, vs)
		}
		if _, err := s.PolicyVersion(ctx, p.ID, 9); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing version: %v", err)
		}
		heads, err := s.PolicyHeads(ctx)
		if err != nil || heads[p.ID] != 2 {
			t.Fatalf("heads: %v %v", err, heads)
		}
		if byName, err := s.PolicyByName(ctx, "Dev portal"); err != nil || byName.ID != p.ID {
			t.Fatalf("by name: %v", err)
		}
	})
}

func TestPolicyAttachments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		acme := mustOrg(t, s, "acme")
		p := store.Policy{Name: "P", Kind: "user_access"}
		if err := s.CreatePolicy(ctx, &p, &store.PolicyVersion{Document: json.RawMessage(`{}`), Author: "cli"}); err != nil {
			t.Fatal(err)
		}
		if before, err := s.Attach(ctx, store.AttachPortal, "", p.ID); err != nil || before != "" {
			t.Fatalf("attach: %v %q", err, before)
		}
		if id, _ := s.AttachedPolicy(ctx, store.AttachPortal, ""); id != p.ID {
			t.Fatalf("attached: %q", id)
		}
		as, err := s.Attachments(ctx, p.ID)
		if err != nil || len(as) != 1 || as[0].Point != store.AttachPortal {
			t.Fatalf("attachments: %v %+v", err, as)
		}
		if before, err := s.Detach(ctx, store.AttachPortal, ""); err != nil || before != p.ID {
			t.Fatalf("detach: %v %q", err, before)
		}
		if id, _ := s.AttachedPolicy(ctx, store.AttachPortal, ""); id != "" {
			t.Fatalf("after detach: %q", id)
		}

		c := store.Client{OrgID: acme.ID, ClientID: "inventory", Name: "Inventory", Type: store.ClientWeb, Enabled: true,
			TokenEndpointAuthMethod: "client_secret_basic"}
		if err := s.CreateClient(ctx, &c); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetClientPolicy(ctx, "inventory", p.ID); err != nil {
			t.Fatal(err)
		}
		apps, _, err := s.PolicyAppPage(ctx, p.ID, store.Page{})
		if err != nil || len(apps) != 1 || apps[0].OrgSlug != "acme" || apps[0].ClientID != "inventory" {
			t.Fatalf("apps using: %v %+v", err, apps)
		}
		if _, err := s.SetClientPolicy(ctx, "nope", p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown client: %v", err)
		}
	})
}

func TestDecisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e storetest.Env) {
		ctx := context.Background()
		s := e.Open(t)
		t0 := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
		var ds []store.Decision
		for i := 0; i < 120; i++ {
			org, action := "org-a", "permit"
			if i%3 == 0 {
				org, action = "org-b", "deny"
			}
			ds = append(ds, store.Decision{ID: fmt.Sprintf("d%03d", i), At: t0.Add(time.Duration(i) * time.Second),
				Point: "authorize", OrgID: org, UserID: "u1", Subject: "ann@example.com", ClientID: "app",
				Context: json.RawMessage(`{"ip":"198.51.100.4"}`), Action: action, Reason: "because"})
		}
		if n, err := s.InsertDecisions(ctx, ds); err != nil || n != 0 {
			t.Fatal(n, err)
		}
		all, err := s.Decisions(ctx, store.DecisionFilter{Limit: 1000})
		if err != nil || len(all) != 120 || all[0].ID != ds[119].ID {
			t.Fatalf("all: %v %d", err, len(all))
		}
		b, err := s.Decisions(ctx, store.DecisionFilter{OrgID: "org-b", Limit: 1000})
		if err != nil || len(b) != 40 {
			t.Fatalf("org-b: %v %d", err, len(b))
		}
		for _, d := range b {
			if d.OrgID != "org-b" || d.Action != "deny" {
				t.Fatalf("org filter leaked %+v", d)
			}
		}
		win, _ := s.Decisions(ctx, store.DecisionFilter{From: t0.Add(10 * time.Second), Until: t0.Add(20 * time.Second), Action: "permit", User: "ann@example.com"})
		if len(win) != 7 { // 10–19 minus 12, 15, 18
			t.Fatalf("window: %d", len(win))
		}
		if _, err := s.Decision(ctx, "org-a", ds[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cross-org lookup: %v", err)
		}
		if d, err := s.Decision(ctx, "org-b", ds[0].ID); err != nil || string(d.Context) != `{"ip":"198.51.100.4"}` {
			t.Fatalf("lookup: %v %+v", err, d)
		}
		if _, err := s.Decision(ctx, "", ds[1].ID); err != nil {
			t.Fatalf("platform lookup: %v", err)
		}
	})
}

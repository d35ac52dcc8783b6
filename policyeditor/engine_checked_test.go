package policyeditor_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"portico/policyeditor"
	"portico/store"
)

// TestEngineCheckedAsksOncePerRequest: under a context from Checked the
// engine decides from the snapshot it revalidated then — a page of badges
// asks the database once, not once per tile — and a change committed
// meanwhile is seen by the next Checked (the next request).
func TestEngineCheckedAsksOncePerRequest(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	eng := policyeditor.NewEngine(st, nil)
	svc := &policyeditor.Service{Store: st}
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	ev := &policyeditor.Evaluation{Point: policyeditor.PointSignIn, OrgID: "org-a", UserID: "u1", Subject: "ann@example.com",
		Request: policyeditor.Request{Now: now, IP: netip.MustParseAddr("198.51.100.4"),
			User: policyeditor.User{Groups: []string{"contractors"}, Locations: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}}}
	s, err := svc.Save(ctx, admin, "", 0, ibmDoc(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Attach(ctx, admin, s.Policy.ID, policyeditor.Target{Point: store.AttachPortal}); err != nil {
		t.Fatal(err)
	}
	checked, err := eng.Checked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := eng.Decide(checked, ev); err != nil || out.Version != 1 {
		t.Fatalf("first badge: %v %+v", err, out)
	}
	// Another process saves version 2 while the page is being drawn.
	cli, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	strict := ibmDoc(t)
	strict.Rules = strict.Rules[:1]
	if _, err := (&policyeditor.Service{Store: cli}).Save(ctx, store.Actor{Label: "cli"}, s.Policy.ID, 0, strict, ""); err != nil {
		t.Fatal(err)
	}
	if out, err := eng.Decide(checked, ev); err != nil || out.Version != 1 {
		t.Fatalf("a later badge of the same page revalidated: %v %+v", err, out)
	}
	next, err := eng.Checked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := eng.Decide(next, ev)
	// The save reaches the data version within milliseconds (PostgreSQL's
	// notification, SQLite's 10 ms watcher; store tests hold the 20 ms
	// bound): a second is only the give-up point.
	for deadline := time.Now().Add(time.Second); err == nil &&
		out.Version != 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		if next, err = eng.Checked(ctx); err == nil {
			out, err = eng.Decide(next, ev)
		}
	}
	if err != nil || out.Version != 2 || out.Action != policyeditor.Deny {
		t.Fatalf("the next request: %v %+v", err, out)
	}
}

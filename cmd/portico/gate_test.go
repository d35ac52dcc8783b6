package main

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
)

// TestPolicyGate runs IBM's example through the authorization server's Gate
// interface: the adapter maps the request, the engine decides, the decision
// is recorded with the reference the verdict carries.
func TestPolicyGate(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "portico.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org := store.Organization{Slug: "acme", Name: "Acme"}
	if err := st.CreateOrganization(ctx, &org); err != nil {
		t.Fatal(err)
	}
	app := store.Client{OrgID: org.ID, ClientID: "dev-portal", Name: "Dev portal", Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}
	svc := store.Client{OrgID: org.ID, ClientID: "sync", Name: "Sync", Type: store.ClientService, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}
	for _, c := range []*store.Client{&app, &svc} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	contractor := store.User{OrgID: org.ID, Email: "carl@acme.example", Name: "Carl", Role: store.RoleMember, Status: store.UserActive, IdPGroups: []string{"contractors"}}
	sales := store.User{OrgID: org.ID, Email: "sam@acme.example", Name: "Sam", Role: store.RoleMember, Status: store.UserActive, IdPGroups: []string{"sales"}}
	for _, u := range []*store.User{&contractor, &sales} {
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)
	if err := st.RememberLocation(ctx, sales.ID, netip.MustParsePrefix("203.0.113.0/24"), "", now); err != nil {
		t.Fatal(err)
	}
	eds := &policyeditor.Service{Store: st}
	saved, err := eds.Import(ctx, store.Actor{Label: "test"}, []byte(ibmPolicy))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: log})
	closeGate := func() { rec.Close() }
	gate := newPolicyGate(st, policyeditor.NewEngine(st, rec), policyeditor.IPLocLocator{}, log)
	check := func(u *store.User, c *store.Client, ip string, stepped bool) authserver.Verdict {
		t.Helper()
		fresh, err := st.LookupClient(ctx, c.ClientID) // the server loads the client per request
		if err != nil {
			t.Fatal(err)
		}
		req := authserver.GateRequest{Point: authserver.PointAuthorize, Now: now, Org: org, Client: &fresh, User: u,
			Context: authserver.RequestContext{IP: netip.MustParseAddr(ip), SteppedUp: stepped}}
		if u == nil {
			req.Point = authserver.PointClientCredentials
		}
		v, err := gate.Check(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := check(&contractor, &app, "198.51.100.4", false); v.Action != authserver.Permit || v.DecisionID != "" {
		t.Fatalf("no policy attached: %+v", v)
	}
	if err := eds.Attach(ctx, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: "dev-portal"}); err != nil {
		t.Fatal(err)
	}
	v := check(&contractor, &app, "198.51.100.4", false)
	if v.Action != authserver.Challenge || v.DecisionID == "" {
		t.Fatalf("contractor at a new location: %+v", v)
	}
	if v := check(&contractor, &app, "198.51.100.4", true); v.Action != authserver.Permit {
		t.Fatalf("after step-up: %+v", v)
	}
	if v := check(&sales, &app, "203.0.113.9", false); v.Action != authserver.Deny {
		t.Fatalf("sales at a remembered location: %+v", v)
	}
	if v := check(&sales, &app, "203.0.113.9", true); v.Action != authserver.Deny {
		t.Fatalf("sales after step-up: %+v", v)
	}
	if v := check(nil, &svc, "192.0.2.1", false); v.Action != authserver.Permit {
		t.Fatalf("machine without an m2m policy: %+v", v)
	}
	closeGate()
	d, err := st.Decision(ctx, org.ID, v.DecisionID)
	if err != nil || d.Action != "challenge" || d.Rule != 1 || d.ClientID != "dev-portal" || d.Subject != "carl@acme.example" || d.Point != "authorize" {
		t.Fatalf("recorded decision: %v %+v", err, d)
	}
	all, _ := st.Decisions(ctx, store.DecisionFilter{})
	if len(all) != 4 {
		t.Fatalf("decisions recorded: %d, want 4", len(all))
	}
}

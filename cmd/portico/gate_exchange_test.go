package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portico/authserver"
	"portico/policyeditor"
	"portico/store"
)

// TestPolicyGateAsksTheAudienceAppsPolicy: at the token-exchange audience
// point the adapter evaluates the audience app's own user-access policy for
// the person, as /authorize would.
func TestPolicyGateAsksTheAudienceAppsPolicy(t *testing.T) {
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
	app := store.Client{OrgID: org.ID, ClientID: "payroll", Name: "Payroll", Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}
	if err := st.CreateClient(ctx, &app); err != nil {
		t.Fatal(err)
	}
	sam := store.User{OrgID: org.ID, Email: "sam@acme.example", Name: "Sam", Role: store.RoleMember, Status: store.UserActive, IdPGroups: []string{"sales"}}
	if err := st.CreateUser(ctx, &sam); err != nil {
		t.Fatal(err)
	}
	eds := &policyeditor.Service{Store: st}
	saved, err := eds.Import(ctx, store.Actor{Label: "test"}, []byte(`{"name":"HR only","kind":"user_access","default":"deny",
		"rules":[{"name":"HR","conditions":[{"type":"group","any_of":["hr"]}],"action":"permit"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := eds.Attach(ctx, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: "payroll"}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: log})
	defer rec.Close()
	gate := newPolicyGate(st, policyeditor.NewEngine(st, rec), nil, log)
	fresh, err := st.LookupClient(ctx, "payroll")
	if err != nil {
		t.Fatal(err)
	}
	v, err := gate.Check(ctx, authserver.GateRequest{Point: authserver.PointTokenExchangeAudience, Now: time.Now(),
		Org: org, Client: &fresh, User: &sam})
	if err != nil {
		t.Fatal(err)
	}
	if v.Action != authserver.Deny || v.DecisionID == "" {
		t.Fatalf("verdict %+v: want the app's policy to deny, recorded", v)
	}
}

// TestPolicyGateIssuerCondition: an external subject is asked about as
// user access at the app (PointExternalSubject) with the issuer that
// vouched for it, so {"type":"issuer"} decides, and the decision log keeps
// the issuer.
func TestPolicyGateIssuerCondition(t *testing.T) {
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
	app := store.Client{OrgID: org.ID, ClientID: "orders", Name: "Orders", Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}
	if err := st.CreateClient(ctx, &app); err != nil {
		t.Fatal(err)
	}
	eds := &policyeditor.Service{Store: st}
	saved, err := eds.Import(ctx, store.Actor{Label: "test"}, []byte(`{"name":"Partner IdP only","kind":"user_access","default":"deny",
		"rules":[{"name":"partner","conditions":[{"type":"issuer","in":["https://idp.partner.example"]}],"action":"permit"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := eds.Attach(ctx, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: "orders"}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: log})
	gate := newPolicyGate(st, policyeditor.NewEngine(st, rec), nil, log)
	fresh, err := st.LookupClient(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	ext := &store.User{OrgID: org.ID, Email: "alice@partner.example", Status: store.UserActive}
	for _, tc := range []struct {
		issuer string
		want   authserver.Action
	}{{"https://idp.partner.example", authserver.Permit}, {"https://idp.other.example", authserver.Deny}, {"", authserver.Deny}} {
		v, err := gate.Check(ctx, authserver.GateRequest{Point: authserver.PointExternalSubject, Now: time.Now(),
			Org: org, Client: &fresh, User: ext, Context: authserver.RequestContext{Issuer: tc.issuer}})
		if err != nil || v.Action != tc.want || v.DecisionID == "" {
			t.Fatalf("issuer %q: %+v %v, want %v", tc.issuer, v, err, tc.want)
		}
	}
	rec.Close()
	ds, err := st.Decisions(ctx, store.DecisionFilter{OrgID: org.ID})
	if err != nil || len(ds) != 3 {
		t.Fatalf("decisions: %d %v", len(ds), err)
	}
	found := false
	for _, d := range ds {
		found = found || strings.Contains(string(d.Context), `"issuer":"https://idp.partner.example"`)
	}
	if !found {
		t.Fatalf("the decision log does not keep the issuer: %s", ds[0].Context)
	}
}

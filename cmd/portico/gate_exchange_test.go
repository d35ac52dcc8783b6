package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
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

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

// TestPolicyGateFillsPartnershipConnectionClientType checks the adapter
// hands the engine what the partnership, connection and client_type
// conditions read.
func TestPolicyGateFillsPartnershipConnectionClientType(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "portico.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate := &policyGate{st: st, log: log}
	ev, err := gate.evaluation(ctx, authserver.GateRequest{Point: authserver.PointAuthorize, Now: until.AddDate(0, 0, -3),
		Org:     store.Organization{ID: "o1", Slug: "acme", ValidUntil: until},
		Client:  &store.Client{ClientID: "spa-app", Type: store.ClientSPA},
		User:    &store.User{ID: "u1", Email: "a@acme.example"},
		Context: authserver.RequestContext{ConnectionID: "conn-okta"}})
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Request
	if !r.ValidUntil.Equal(until) || r.User.ConnectionID != "conn-okta" || r.Client.Type != "spa" {
		t.Fatalf("request: valid_until %v connection %q type %q", r.ValidUntil, r.User.ConnectionID, r.Client.Type)
	}
	p, err := policyeditor.CompileJSON([]byte(`{"name":"t","kind":"user_access","default":"deny","rules":[{"conditions":[
		{"type":"partnership","ends_within":"7d"},{"type":"connection","in":["conn-okta"]},{"type":"client_type","in":["spa"]}],"action":"permit"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Evaluate(&r); d.Action != policyeditor.Permit {
		t.Fatalf("decision %+v", d)
	}
}

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

// TestPolicyGateReadsAuthMethods: a policy demanding a passkey within 15
// minutes, attached to an app, is read at /authorize from the session's
// methods (a TOTP step-up does not meet it, a passkey does) and, at refresh
// and token exchange, from the token's own amr and auth_time — the amr and
// auth_time an ID token carries.
func TestPolicyGateReadsAuthMethods(t *testing.T) {
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
	app := store.Client{OrgID: org.ID, ClientID: "wiki", Name: "Wiki", Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}
	if err := st.CreateClient(ctx, &app); err != nil {
		t.Fatal(err)
	}
	dana := store.User{OrgID: org.ID, Email: "dana@acme.example", Name: "Dana", Role: store.RoleMember, Status: store.UserActive}
	if err := st.CreateUser(ctx, &dana); err != nil {
		t.Fatal(err)
	}
	eds := &policyeditor.Service{Store: st}
	saved, err := eds.Import(ctx, store.Actor{Label: "test"}, []byte(phishingResistantPolicyJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := eds.Attach(ctx, store.Actor{Label: "test"}, saved.Policy.ID, policyeditor.Target{ClientID: "wiki"}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := policyeditor.NewRecorder(st, policyeditor.RecorderOptions{Log: log})
	defer rec.Close()
	gate := newPolicyGate(st, policyeditor.NewEngine(st, rec), nil, log)
	fresh, err := st.LookupClient(ctx, "wiki")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	check := func(point authserver.Point, rc authserver.RequestContext) authserver.Verdict {
		t.Helper()
		v, err := gate.Check(ctx, authserver.GateRequest{Point: point, Now: now, Org: org, Client: &fresh, User: &dana, Context: rc})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	at := func(ms ...string) map[string]time.Time {
		m := map[string]time.Time{}
		for _, x := range ms {
			m[x] = now
		}
		return m
	}

	v := check(authserver.PointAuthorize, authserver.RequestContext{AuthTime: now, AMR: []string{"pwd"}, AuthMethods: at("pwd")})
	if v.Action != authserver.Challenge || strings.Join(v.StepUpWith, " ") != "hwk swk" {
		t.Fatalf("password only: %+v", v)
	}
	v = check(authserver.PointAuthorize, authserver.RequestContext{AuthTime: now, MFAAt: now, SteppedUp: true,
		AMR: []string{"mfa", "otp", "pwd"}, AuthMethods: at("pwd", "otp")})
	if v.Action != authserver.Challenge {
		t.Fatalf("a TOTP step-up met a passkey rule: %+v", v)
	}
	v = check(authserver.PointAuthorize, authserver.RequestContext{AuthTime: now, MFAAt: now, SteppedUp: true,
		AMR: []string{"hwk", "mfa", "pwd", "user"}, AuthMethods: at("pwd", "hwk", "user")})
	if v.Action != authserver.Permit {
		t.Fatalf("a passkey step-up did not meet the rule: %+v", v)
	}

	// A token's claims: amr ["hwk","user"], auth_time 5 minutes ago passes;
	// the same an hour ago is too old for "within 15m".
	tokenAMR := []string{"hwk", "mfa", "user"}
	if v := check(authserver.PointRefresh, authserver.RequestContext{AuthTime: now.Add(-5 * time.Minute), AMR: tokenAMR}); v.Action != authserver.Permit {
		t.Fatalf("recent passkey token: %+v", v)
	}
	if v := check(authserver.PointRefresh, authserver.RequestContext{AuthTime: now.Add(-time.Hour), AMR: tokenAMR}); v.Action != authserver.Challenge {
		t.Fatalf("hour-old passkey token: %+v", v)
	}
	if authserver.ACRFor(tokenAMR) != authserver.ACRPhishingResistant || authserver.ACRFor([]string{"mfa", "otp", "pwd"}) != authserver.ACRMFA ||
		authserver.ACRFor([]string{"pwd"}) != authserver.ACRPassword {
		t.Fatal("acr classes")
	}
}

package authserver_test

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"portico/authserver"
	"portico/store"
)

// denyUserAt is a policy in Gate form: it denies one person at one app at
// every user-access point, and remembers where it was asked.
type denyUserAt struct {
	mu               sync.Mutex
	clientID, userID string
	asked            []authserver.Point
}

func (g *denyUserAt) Check(_ context.Context, req authserver.GateRequest) (authserver.Verdict, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if req.User != nil && req.Client != nil && req.Client.ClientID == g.clientID && req.User.ID == g.userID {
		g.asked = append(g.asked, req.Point)
		return authserver.Verdict{Action: authserver.Deny, Reason: "app policy denies this person"}, nil
	}
	return authserver.Verdict{Action: authserver.Permit}, nil
}

const exchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"
const accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

// TestTokenExchangeBindsSubjectsChecksAudiencesAndCascadesRevocation is
// finding 9: a client exchanges only tokens issued to it or naming it in
// aud (or all of its organization's with the admin's setting); a person
// denied at an app gets no token for it by exchange; revoking a subject
// token makes every token exchanged from it inactive.
func TestTokenExchangeBindsSubjectsChecksAudiencesAndCascadesRevocation(t *testing.T) {
	gate := &denyUserAt{}
	w := newWorld(t, func(c *authserver.Config) { c.Gate = authserver.Chain{authserver.DefaultGate{}, gate} })
	web, webSecret := w.web("orders:read")
	code := w.codeFor(web.ClientID, "openid orders:read", "")
	_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectBase}}, web.ClientID, webSecret)
	subject := tok["access_token"].(string)

	gateway, gwSecret := w.service("orders:read") // will be allowed to exchange any subject
	api, apiSecret := w.service("orders:read")    // an API the gateway calls
	denied, _ := w.web("orders:read")             // an app that denies the user
	gate.mu.Lock()
	gate.clientID, gate.userID = denied.ClientID, w.user.ID
	gate.mu.Unlock()

	exchange := func(token, audience string, c creds) (int, map[string]any) {
		t.Helper()
		f := url.Values{"grant_type": {exchangeGrant}, "subject_token": {token}, "subject_token_type": {accessTokenType}}
		if audience != "" {
			f.Set("audience", audience)
		}
		return w.post("/token", f, c.id, c.secret)
	}
	gw := creds{gateway.ClientID, gwSecret}
	apiC := creds{api.ClientID, apiSecret}

	// A subject issued to another client, not naming the gateway: refused.
	st, b := exchange(subject, api.ClientID, gw)
	wantError(t, st, b, 400, "invalid_grant")

	// The platform admin's setting lets the gateway exchange it.
	if _, err := w.reg.SetExchangeAnySubject(w.ctx, w.org.ID, gateway.ClientID, cli, true); err != nil {
		t.Fatal(err)
	}
	st, b = exchange(subject, api.ClientID, gw)
	if st != 200 {
		t.Fatalf("exchange with the setting: %d %v", st, b)
	}
	forAPI := b["access_token"].(string)
	// The API may exchange a token naming it in aud, without the setting.
	st, b = exchange(forAPI, "", apiC)
	if st != 200 {
		t.Fatalf("exchange of a token naming the client in aud: %d %v", st, b)
	}
	second := b["access_token"].(string)
	// But not the original subject, which names neither.
	st, b = exchange(subject, "", apiC)
	wantError(t, st, b, 400, "invalid_grant")

	// The person is denied at the app: no token for it by exchange.
	st, b = exchange(subject, denied.ClientID, gw)
	wantError(t, st, b, 400, "invalid_target")
	gate.mu.Lock()
	asked := append([]authserver.Point(nil), gate.asked...)
	gate.mu.Unlock()
	if len(asked) != 1 || asked[0] != authserver.PointTokenExchangeAudience {
		t.Fatalf("the app's gate was asked at %v", asked)
	}

	// Revoking the subject kills what was exchanged from it, at every level.
	introspect := func(token string) bool {
		t.Helper()
		st, in := w.post("/introspect", url.Values{"token": {token}}, api.ClientID, apiSecret)
		if st != 200 {
			t.Fatalf("introspect: %d %v", st, in)
		}
		return in["active"] == true
	}
	if !introspect(forAPI) || !introspect(second) {
		t.Fatal("exchanged tokens inactive before revocation")
	}
	if st, b := w.post("/revoke", url.Values{"token": {subject}}, web.ClientID, webSecret); st != 200 {
		t.Fatalf("revoke: %d %v", st, b)
	}
	if introspect(forAPI) || introspect(second) {
		t.Fatal("tokens exchanged from a revoked subject are still active")
	}
	st, b = exchange(forAPI, "", apiC)
	wantError(t, st, b, 400, "invalid_grant")
	_ = store.ClientService
}

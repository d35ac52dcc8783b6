package authserver_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"portico/partners"
	"portico/store"
)

// TestSuspensionKillsRefreshTokens: refresh tokens issued through a real code
// flow stop working the moment the partners service suspends the
// organization or ends its partnership, and lifting the decision does not
// bring them back: they were revoked, not merely refused while inactive.
func TestSuspensionKillsRefreshTokens(t *testing.T) {
	admin := store.Actor{Label: "test"}
	for _, tc := range []struct {
		name   string
		end    func(svc *partners.Service, now time.Time) error
		resume func(svc *partners.Service) error
	}{
		{"suspension",
			func(svc *partners.Service, _ time.Time) error {
				_, err := svc.Suspend(t.Context(), admin, "acme")
				return err
			},
			func(svc *partners.Service) error { _, err := svc.Reactivate(t.Context(), admin, "acme"); return err }},
		{"valid_until in the past",
			func(svc *partners.Service, now time.Time) error {
				past := now.Add(-time.Minute)
				_, err := svc.UpdateOrg(t.Context(), admin, "acme", partners.OrgInput{ValidUntil: &past})
				return err
			},
			func(svc *partners.Service) error {
				var none time.Time
				_, err := svc.UpdateOrg(t.Context(), admin, "acme", partners.OrgInput{ValidUntil: &none})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			svc := &partners.Service{Store: w.st, Now: w.clock}
			web, secret := w.web("orders:read")
			refresh := func(rt string) (int, map[string]any) {
				return w.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, web.ClientID, secret)
			}
			// Two grants: one presented while the organization is inactive,
			// one presented only after the decision is lifted. The refresh
			// grant refuses (and itself revokes) a family of an inactive
			// organization, so only the second proves that the partners
			// service revoked the families when it made the decision.
			grant := func() string {
				t.Helper()
				code := w.codeFor(web.ClientID, "openid offline_access orders:read", "")
				st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
					"redirect_uri": {redirectBase}}, web.ClientID, secret)
				rt, _ := tok["refresh_token"].(string)
				if st != http.StatusOK || rt == "" {
					t.Fatalf("code exchange: %d %v", st, tok)
				}
				st, tok = refresh(rt) // the family works before the decision
				rt, _ = tok["refresh_token"].(string)
				if st != http.StatusOK || rt == "" {
					t.Fatalf("refresh before: %d %v", st, tok)
				}
				return rt
			}
			during, after := grant(), grant()

			if err := tc.end(svc, w.clock()); err != nil {
				t.Fatal(err)
			}
			st, tok := refresh(during)
			wantError(t, st, tok, http.StatusBadRequest, "invalid_grant")

			if err := tc.resume(svc); err != nil {
				t.Fatal(err)
			}
			for name, rt := range map[string]string{"presented while inactive": during, "never presented while inactive": after} {
				if st, tok := refresh(rt); st != http.StatusBadRequest || tok["error"] != "invalid_grant" {
					t.Errorf("refresh token %s: %d %v after resuming, want 400 invalid_grant", name, st, tok["error"])
				}
			}
			// The organization itself works again: a new sign-in gets tokens.
			code := w.codeFor(web.ClientID, "openid offline_access orders:read", "")
			if st, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirectBase}}, web.ClientID, secret); st != http.StatusOK {
				t.Fatalf("after resuming: %d %v", st, tok)
			}
		})
	}
}

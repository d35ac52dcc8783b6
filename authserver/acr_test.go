package authserver_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"portico/authserver"
	"portico/store"
)

// TestACRValuesStepUpAndTokenClaims: an app asking for the phishing-
// resistant class gets no code for a password sign-in (the portal is told
// to step up with a passkey), then an ID token whose acr, amr and
// auth_time say how the person signed in; discovery lists the classes.
func TestACRValuesStepUpAndTokenClaims(t *testing.T) {
	w := newWorld(t)
	c, secret := w.client(authserver.RegisterInput{Name: "bank", Type: store.ClientWeb, RedirectURIs: []string{redirectBase}})
	// First party: the consent step is not what this test is about.
	if _, err := w.reg.SetFirstParty(w.ctx, w.org.ID, c.ClientID, cli, true); err != nil {
		t.Fatal(err)
	}
	start := func(acr string) string {
		q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {redirectBase},
			"scope": {"openid"}, "state": {"s"}, "acr_values": {acr}}
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := hc.Get(w.issuer + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query().Get("auth_request")
	}

	id := start(authserver.ACRPhishingResistant)
	pwd := authserver.LoginUser{UserID: w.user.ID, AuthTime: w.clock(), AMR: []string{"pwd"}}
	_, err := w.srv.CompleteLogin(w.ctx, id, pwd)
	if !isErr(err, authserver.ErrStepUpRequired) || strings.Join(authserver.StepUpMethods(err), " ") != "hwk swk" {
		t.Fatalf("password sign-in for acr phr: %v (methods %v)", err, authserver.StepUpMethods(err))
	}
	// A TOTP step-up is two factors but not phishing-resistant.
	otp := pwd
	otp.AMR, otp.SteppedUp, otp.MFAAt = []string{"mfa", "otp", "pwd"}, true, w.clock()
	if _, err := w.srv.CompleteLogin(w.ctx, id, otp); !isErr(err, authserver.ErrStepUpRequired) {
		t.Fatalf("TOTP step-up met acr phr: %v", err)
	}
	passkey := pwd
	passkey.AMR, passkey.SteppedUp, passkey.MFAAt = []string{"hwk", "mfa", "pwd", "user"}, true, w.clock()
	to, err := w.srv.CompleteLogin(w.ctx, id, passkey)
	if err != nil || !strings.Contains(to, "code=") {
		t.Fatalf("passkey step-up: %q %v", to, err)
	}
	u, _ := url.Parse(to)
	_, tok := w.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
		"redirect_uri": {redirectBase}}, c.ClientID, secret)
	raw, _ := tok["id_token"].(string)
	_, p := claims(t, raw)
	if p["acr"] != authserver.ACRPhishingResistant || p["auth_time"] == nil {
		t.Fatalf("ID token acr/auth_time: %v", p)
	}
	var amr []string
	for _, v := range p["amr"].([]any) {
		amr = append(amr, v.(string))
	}
	if !slices.Contains(amr, "hwk") || !slices.Contains(amr, "user") {
		t.Fatalf("ID token amr %v", amr)
	}
	_, at := claims(t, tok["access_token"].(string))
	if at["acr"] != authserver.ACRPhishingResistant {
		t.Fatalf("access token acr %v", at["acr"])
	}

	// Introspection tells a resource server the same (RFC 9470 step-up).
	_, in := w.post("/introspect", url.Values{"token": {tok["access_token"].(string)}}, c.ClientID, secret)
	if in["active"] != true || in["acr"] != authserver.ACRPhishingResistant || in["auth_time"] == nil {
		t.Fatalf("introspection: %v", in)
	}

	// mfa is met by TOTP; unknown values are ignored (acr_values is a wish list).
	id = start(authserver.ACRMFA)
	if to, err := w.srv.CompleteLogin(w.ctx, id, otp); err != nil || !strings.Contains(to, "code=") {
		t.Fatalf("acr mfa with TOTP: %q %v", to, err)
	}
	id = start("urn:example:unknown")
	if to, err := w.srv.CompleteLogin(w.ctx, id, pwd); err != nil || !strings.Contains(to, "code=") {
		t.Fatalf("unknown acr value: %q %v", to, err)
	}

	_, disc := w.do(mustGet(t, w.issuer+"/.well-known/openid-configuration"))
	got, _ := disc["acr_values_supported"].([]any)
	if len(got) != 3 || got[2] != authserver.ACRPhishingResistant {
		t.Fatalf("acr_values_supported %v", disc["acr_values_supported"])
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

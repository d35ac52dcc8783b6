package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portico/handlers"
	"portico/store"
)

// newPasskeyPortal is an MFA portal whose issuer names "localhost": a
// WebAuthn relying-party id must be a domain, not 127.0.0.1.
func newPasskeyPortal(t *testing.T) *mfaPortal {
	return newMFAPortal(t, func(c *handlers.Config) {
		c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1)
	})
}

// requirePasskeys turns the organization's passkey requirement on or off.
func (mp *mfaPortal) requirePasskeys(t *testing.T, on bool) {
	t.Helper()
	if _, _, err := mp.Store.UpdateOrganization(context.Background(), mp.org.ID, func(o *store.Organization) error {
		o.RequirePasskey = on
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// An organization that requires passkeys takes no authenticator-app code:
// after the password its member is asked to create a passkey, and a valid
// TOTP code posted anyway starts no session.
func TestOrgRequiringPasskeysRefusesTOTP(t *testing.T) {
	mp := newPasskeyPortal(t)
	const ip = "198.51.100.7"
	_, secret := mp.user(t, "dana@acme.example", true)
	mp.requirePasskeys(t, true)
	c := mp.Client(t)
	state := mp.passwordStep(t, c, "dana@acme.example", ip)
	if state == "" {
		t.Fatal("a password alone signed in a member of an organization that requires passkeys")
	}
	page := from(t, c, http.MethodGet, mp.URL+"/login/mfa?state="+state, ip, nil)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `id="passkey-required"`) ||
		!strings.Contains(page.Body, `data-passkey="create"`) || strings.Contains(page.Body, "Code from your authenticator app") {
		t.Fatalf("second-factor page: %d\n%s", page.StatusCode, page.Body)
	}
	r := from(t, c, http.MethodPost, mp.URL+"/login/mfa", ip, url.Values{"state": {state}, "code": {mp.code(t, secret)}})
	if r.StatusCode != http.StatusUnauthorized || whoAmI(t, c) != "" {
		t.Fatalf("a TOTP code was accepted where passkeys are required: %d, signed in as %q", r.StatusCode, whoAmI(t, c))
	}
}

// Adding a passkey needs the first factor within the minute, as any second
// factor does: a session alone gets no registration options.
func TestPasskeyRegistrationNeedsTheFirstFactorAgain(t *testing.T) {
	mp := newPasskeyPortal(t)
	const ip = "198.51.100.7"
	mp.user(t, "dana@acme.example", false)
	c := mp.Client(t)
	mp.passwordStep(t, c, "dana@acme.example", ip)
	begin := func(form url.Values) (int, map[string]any) {
		r := from(t, c, http.MethodPost, mp.URL+"/account/passkeys/begin", ip, form)
		var out map[string]any
		if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
			t.Fatalf("begin answered %d %q", r.StatusCode, r.Body)
		}
		return r.StatusCode, out
	}
	if status, out := begin(url.Values{"name": {"Laptop"}}); status != http.StatusOK || out["challenge"] == "" || out["publicKey"] == nil {
		t.Fatalf("right after sign-in: %d %v", status, out)
	}
	mp.clock.Advance(2 * time.Minute) // the session is all that is left
	if status, out := begin(url.Values{"name": {"Laptop"}}); status != http.StatusUnprocessableEntity || out["publicKey"] != nil ||
		!strings.Contains(out["error"].(string), "password") {
		t.Fatalf("session alone: %d %v", status, out)
	}
	if status, out := begin(url.Values{"name": {"Laptop"}, "password": {"not the password"}}); status != http.StatusUnprocessableEntity || out["publicKey"] != nil {
		t.Fatalf("wrong password: %d %v", status, out)
	}
	status, out := begin(url.Values{"name": {"Laptop"}, "password": {pw}})
	pk, _ := out["publicKey"].(map[string]any)
	sel, _ := pk["authenticatorSelection"].(map[string]any)
	if status != http.StatusOK || sel["residentKey"] != "required" {
		t.Fatalf("with the password: %d %v", status, out)
	}
	// The answer to a registration nobody began is refused, nothing stored.
	r := from(t, c, http.MethodPost, mp.URL+"/account/passkeys", ip, url.Values{"challenge": {"forged"}, "credential": {"{}"}})
	if n, _ := mp.Store.CountPasskeys(context.Background(), mustUser(t, mp.Harness, "dana@acme.example").ID); r.StatusCode != http.StatusBadRequest || n != 0 {
		t.Fatalf("forged registration: %d, %d stored", r.StatusCode, n)
	}
}

// The last passkey of someone whose organization requires passkeys stays,
// with a message saying why; another user's passkey is not found.
func TestLastPasskeyOfAnOrganizationRequiringThemStays(t *testing.T) {
	mp := newPasskeyPortal(t)
	const ip = "198.51.100.7"
	u, _ := mp.user(t, "dana@acme.example", false)
	other, _ := mp.user(t, "eve@acme.example", false)
	ctx := context.Background()
	c := mp.Client(t)
	mp.passwordStep(t, c, "dana@acme.example", ip) // no passkey yet: the password is enough
	pk := store.Passkey{UserID: u.ID, CredentialID: "cred-dana", PublicKey: []byte{1}, Name: "Laptop"}
	theirs := store.Passkey{UserID: other.ID, CredentialID: "cred-eve", PublicKey: []byte{1}, Name: "Eve's"}
	for _, p := range []*store.Passkey{&pk, &theirs} {
		if err := mp.Store.AddPasskey(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mp.requirePasskeys(t, true)
	r := from(t, c, http.MethodPost, mp.URL+"/account/passkeys/"+pk.ID+"/delete", ip, url.Values{})
	if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "requires a passkey") {
		t.Fatalf("removing the last passkey: %d %s", r.StatusCode, pageError(r.Body))
	}
	r = from(t, c, http.MethodPost, mp.URL+"/account/passkeys/"+theirs.ID+"/delete", ip, url.Values{})
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("removing another user's passkey: %d", r.StatusCode)
	}
	mp.requirePasskeys(t, false)
	r = from(t, c, http.MethodPost, mp.URL+"/account/passkeys/"+pk.ID+"/delete", ip, url.Values{})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("removing a passkey: %d %s", r.StatusCode, pageError(r.Body))
	}
	if n, _ := mp.Store.CountPasskeys(ctx, u.ID); n != 0 {
		t.Fatal("not removed")
	}
	if n, _ := mp.Store.CountPasskeys(ctx, other.ID); n != 1 {
		t.Fatal("another user's passkey went too")
	}
	if a := mp.auditActions(t)["mfa.passkey_remove"]; !strings.Contains(a, "Laptop") {
		t.Fatalf("removal not audited: %q", a)
	}
}

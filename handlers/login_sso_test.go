package handlers_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/authserver"
	"portico/handlers/handlerstest"
	"portico/store"
)

// authorizeOnce sends one authorization request from browser b and returns
// /authorize's own answer, without following it, and the code verifier.
func (p *consentPortal) authorizeOnce(t *testing.T, b *handlerstest.Client, extra url.Values) (handlerstest.Response, string) {
	t.Helper()
	verifier := make([]byte, 32)
	rand.Read(verifier)
	v := base64.RawURLEncoding.EncodeToString(verifier)
	sum := sha256.Sum256([]byte(v))
	q := url.Values{"response_type": {"code"}, "client_id": {p.app.ClientID}, "redirect_uri": {appCallback},
		"scope": {"openid"}, "state": {"st-1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	for k, vs := range extra {
		q[k] = vs
	}
	return b.Get("/authorize?" + q.Encode()), v
}

func (p *consentPortal) firstParty(t *testing.T) {
	t.Helper()
	if _, err := p.srv.Registrar().SetFirstParty(context.Background(), p.app.OrgID, p.app.ClientID, authserver.Actor{Label: "test"}, true); err != nil {
		t.Fatal(err)
	}
}

// TestSignedInPersonGetsTheCodeFromAuthorize: single sign-on needs no login
// page. A signed-in person's request that asks nothing of them gets its code
// from /authorize itself, with state and iss; the code is single-use. A
// request that asks for a fresh sign-in, an acr the session lacks, or comes
// from a signed-out browser still goes to the login page.
func TestSignedInPersonGetsTheCodeFromAuthorize(t *testing.T) {
	p := newConsentPortal(t)
	p.firstParty(t)
	b := p.h.Client(t)

	r, _ := p.authorizeOnce(t, b, nil)
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?auth_request=") {
		t.Fatalf("signed out: %d %q, want the login page", r.StatusCode, loc)
	}

	b.Login(p.user.Email, pw)
	r, verifier := p.authorizeOnce(t, b, nil)
	to, _ := url.Parse(r.Header.Get("Location"))
	code := to.Query().Get("code")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(to.String(), appCallback) || code == "" ||
		to.Query().Get("state") != "st-1" || to.Query().Get("iss") != p.h.Config.Issuer {
		t.Fatalf("signed in: %d %s, want the code at the redirect URI", r.StatusCode, to)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appCallback}, "code_verifier": {verifier}}
	if status, tok := p.redeem(t, form); status != http.StatusOK || tok["id_token"] == nil {
		t.Fatalf("redeeming the code: %d %v", status, tok)
	}
	if status, _ := p.redeem(t, form); status != http.StatusBadRequest {
		t.Fatalf("the code was redeemed twice: %d", status)
	}

	// prompt=none: no page is what this path shows.
	r, _ = p.authorizeOnce(t, b, url.Values{"prompt": {"none"}})
	if to, _ := url.Parse(r.Header.Get("Location")); r.StatusCode != http.StatusFound || to.Query().Get("code") == "" {
		t.Fatalf("prompt=none: %d %s, want the code", r.StatusCode, to)
	}
	for name, extra := range map[string]url.Values{
		"prompt=login":   {"prompt": {"login"}},
		"prompt=consent": {"prompt": {"consent"}},
		"max_age=0":      {"max_age": {"0"}},
		"a passkey acr":  {"acr_values": {authserver.ACRPhishingResistant}},
	} {
		r, _ := p.authorizeOnce(t, b, extra)
		if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?auth_request=") {
			t.Errorf("%s: %d %q, want the login page", name, r.StatusCode, loc)
		}
	}
}

// TestSingleSignOnAtAuthorizeKeepsTheGates: what the login page would stop
// stops single sign-on too. A password to replace sends the person to the
// login page (which sends them to the change form); a person the gate
// refuses gets access_denied at the app from /authorize itself; a
// third-party app without consent goes to the consent page.
func TestSingleSignOnAtAuthorizeKeepsTheGates(t *testing.T) {
	p := newConsentPortal(t)
	ctx := context.Background()
	b := p.h.Client(t)
	b.Login(p.user.Email, pw)

	// Third-party, no consent yet: the login page, then the consent page.
	r, _ := p.authorizeOnce(t, b, nil)
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?auth_request=") {
		t.Fatalf("third-party app without consent: %d %q", r.StatusCode, loc)
	}
	if r := b.Get(r.Header.Get("Location")); r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "consent") {
		t.Fatalf("login page for a third-party app: %d %q, want the consent page", r.StatusCode, r.Header.Get("Location"))
	}

	p.firstParty(t)
	if err := p.h.Store.RequirePasswordChange(ctx, p.user.ID); err != nil {
		t.Fatal(err)
	}
	r, _ = p.authorizeOnce(t, b, nil)
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login?auth_request=") {
		t.Fatalf("password to replace: %d %q, want the login page", r.StatusCode, loc)
	}
	if r := b.Get(r.Header.Get("Location")); r.Header.Get("Location") != "/account/password" {
		t.Fatalf("login page with a password to replace: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// The gate refuses a person of an organization the app is not shared
	// with.
	other := p.h.Org(t, "elsewhere", "elsewhere.example")
	private, _, err := p.srv.Registrar().Register(ctx, other.ID, authserver.Actor{Label: "test"}, authserver.RegisterInput{
		Name: "Private", Type: store.ClientWeb, RedirectURIs: []string{appCallback}})
	if err != nil {
		t.Fatal(err)
	}
	p.app = private
	p.firstParty(t)
	sb := p.h.Client(t)
	sb.Login(p.h.User(t, p.org, "sam@acme.example", store.RoleMember, pw).Email, pw)
	r, _ = p.authorizeOnce(t, sb, nil)
	to, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(to.String(), appCallback) ||
		to.Query().Get("error") != "access_denied" || to.Query().Get("code") != "" || to.Query().Get("iss") != p.h.Config.Issuer {
		t.Fatalf("refused person: %d %s, want access_denied at the app", r.StatusCode, to)
	}
}

// TestSingleSignOnAtAuthorizeEndsWithTheSession: a session that ended
// (signed out, or its person disabled) gives no code at /authorize.
func TestSingleSignOnAtAuthorizeEndsWithTheSession(t *testing.T) {
	p := newConsentPortal(t)
	p.firstParty(t)
	ctx := context.Background()
	b := p.h.Client(t)
	b.Login(p.user.Email, pw)
	if r, _ := p.authorizeOnce(t, b, nil); !strings.Contains(r.Header.Get("Location"), "code=") {
		t.Fatalf("signed in: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := b.Post("/logout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
	if r, _ := p.authorizeOnce(t, b, nil); !strings.HasPrefix(r.Header.Get("Location"), "/login?auth_request=") {
		t.Fatalf("signed out: %d %q, want the login page", r.StatusCode, r.Header.Get("Location"))
	}

	b.Login(p.user.Email, pw)
	if _, _, err := p.h.Store.UpdateUser(ctx, p.org.ID, p.user.ID, func(u *store.User) error {
		u.Status = store.UserDisabled
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r, _ := p.authorizeOnce(t, b, nil); !strings.HasPrefix(r.Header.Get("Location"), "/login?auth_request=") {
		t.Fatalf("disabled: %d %q, want the login page", r.StatusCode, r.Header.Get("Location"))
	}
}

// TestSingleSignOnAtAuthorizeStopsForASuspendedOrganization: a session
// cached while its organization was active gives no code once the
// organization is suspended; the login page takes over, as for a disabled
// person.
func TestSingleSignOnAtAuthorizeStopsForASuspendedOrganization(t *testing.T) {
	p := newConsentPortal(t)
	p.firstParty(t)
	b := p.h.Client(t)
	b.Login(p.user.Email, pw)
	for range 2 { // the second answer comes from the cached principal
		if r, _ := p.authorizeOnce(t, b, nil); !strings.Contains(r.Header.Get("Location"), "code=") {
			t.Fatalf("signed in: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
	}
	if _, _, err := p.h.Store.UpdateOrganization(context.Background(), p.org.ID, func(o *store.Organization) error {
		o.Status = store.OrgSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r, _ := p.authorizeOnce(t, b, nil); !strings.HasPrefix(r.Header.Get("Location"), "/login?auth_request=") {
		t.Fatalf("suspended organization: %d %q, want the login page", r.StatusCode, r.Header.Get("Location"))
	}
}

package handlers_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portico/authserver"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/handlers/handlerstest"
	"portico/store"
	"portico/views"
)

// oauthAdapter adapts authserver to the sign-in flow's interfaces, as
// cmd/portico does (handlers cannot import cmd).
type oauthAdapter struct{ s *authserver.Server }

func mapErr(err error) error {
	for _, m := range []struct{ from, to error }{
		{authserver.ErrStepUpRequired, handlers.ErrStepUpRequired},
		{authserver.ErrUnknownAuthRequest, handlers.ErrUnknownAuthRequest},
		{authserver.ErrReauthenticationRequired, handlers.ErrReauthenticationRequired},
		{authserver.ErrConsentRequired, handlers.ErrConsentRequired},
	} {
		if errors.Is(err, m.from) {
			return fmt.Errorf("%w: %w", m.to, err)
		}
	}
	return err
}

func (a oauthAdapter) CompleteLogin(ctx context.Context, id string, in handlers.CompletedSignIn) (string, error) {
	to, err := a.s.CompleteLogin(ctx, id, authserver.LoginUser{UserID: in.UserID, AuthTime: in.AuthTime, MFAAt: in.MFAAt,
		AMR: in.AMR, ConnectionID: in.ConnectionID, IP: in.IP, SteppedUp: in.SteppedUp})
	return to, mapErr(err)
}

func (a oauthAdapter) ConsentPrompt(ctx context.Context, id string) (handlers.ConsentPrompt, error) {
	r, err := a.s.ConsentPrompt(ctx, id)
	out := handlers.ConsentPrompt{ClientID: r.ClientID, ClientName: r.ClientName, OrgName: r.OrgName}
	for _, sc := range r.Scopes {
		out.Scopes = append(out.Scopes, views.ConsentScope{Name: sc.Name, Description: sc.Description})
	}
	return out, mapErr(err)
}

func (a oauthAdapter) GrantConsent(ctx context.Context, id, userID string) error {
	return mapErr(a.s.GrantConsent(ctx, id, userID))
}

func (a oauthAdapter) DenyConsent(ctx context.Context, id string) (string, error) {
	to, err := a.s.DenyConsent(ctx, id)
	return to, mapErr(err)
}

type consentPortal struct {
	h      *handlerstest.Harness
	srv    *authserver.Server
	org    store.Organization
	user   store.User
	app    store.Client
	secret string
}

const appCallback = "https://calendar.example/cb"

func newConsentPortal(t *testing.T, opts ...func(*authserver.Config)) *consentPortal {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	sealer, _ := store.NewSealer(key)
	p := &consentPortal{}
	p.h = handlerstest.New(t, func(c *handlers.Config) {
		var err error
		cfg := authserver.Config{Issuer: c.Issuer, Store: c.Store, Sealer: sealer,
			AllowInsecure: true, CacheRevalidate: -1, Now: c.Now,
			LoginURL:  func(id string) string { return "/login?auth_request=" + url.QueryEscape(id) },
			LogoutURL: handlers.LogoutConfirmURL}
		for _, o := range opts {
			o(&cfg)
		}
		p.srv, err = authserver.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.OAuth = p.srv
		c.SignIn = handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry(),
			Completer: oauthAdapter{p.srv}, Consent: oauthAdapter{p.srv}}
	})
	ctx := context.Background()
	p.org = p.h.Org(t, "acme", "acme.example")
	p.user = p.h.User(t, p.org, "mia@acme.example", store.RoleMember, pw)
	dev := p.h.Org(t, "devshop", "devshop.example")
	if err := p.h.Store.CreateScope(ctx, &store.Scope{Name: "calendar:read", Description: "Read your calendar"}); err != nil {
		t.Fatal(err)
	}
	var err error
	// A developer elsewhere registers an app: it is third-party.
	p.app, p.secret, err = p.srv.Registrar().Register(ctx, dev.ID, authserver.Actor{Label: "test"}, authserver.RegisterInput{
		Name: "Calendar sync", Type: store.ClientWeb, RedirectURIs: []string{appCallback},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"calendar:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Store.ShareClient(ctx, dev.ID, p.app.ClientID, ""); err != nil {
		t.Fatal(err)
	}
	return p
}

// authorize starts the code flow in browser b and follows the portal's
// redirects until it leaves for the app or stops at a portal page.
func (p *consentPortal) authorize(t *testing.T, b *handlerstest.Client, scope string, extra url.Values) (handlerstest.Response, string) {
	t.Helper()
	verifier := make([]byte, 32)
	rand.Read(verifier)
	v := base64.RawURLEncoding.EncodeToString(verifier)
	sum := sha256.Sum256([]byte(v))
	q := url.Values{"response_type": {"code"}, "client_id": {p.app.ClientID}, "redirect_uri": {appCallback},
		"scope": {scope}, "state": {"st-1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	for k, vs := range extra {
		q[k] = vs
	}
	r := b.Get("/authorize?" + q.Encode())
	for i := 0; i < 5 && (r.StatusCode == http.StatusSeeOther || r.StatusCode == http.StatusFound); i++ {
		loc := r.Header.Get("Location")
		if strings.HasPrefix(loc, appCallback) {
			break
		}
		r = b.Get(strings.TrimPrefix(loc, p.h.URL))
	}
	return r, v
}

func (p *consentPortal) redeem(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.h.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.app.ClientID), url.QueryEscape(p.secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestThirdPartyAppAsksForConsent: a member who follows another
// organization's app link is shown what it asks for in words; Deny sends
// access_denied (with iss) to the app; Allow issues the code and is
// remembered; the account page lists the app, and revoking it there kills
// the refresh token the app holds.
func TestThirdPartyAppAsksForConsent(t *testing.T) {
	p := newConsentPortal(t)
	b := p.h.Client(t)
	b.Login(p.user.Email, pw)

	// Deny.
	r, _ := p.authorize(t, b, "openid email offline_access calendar:read", nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="consent"`) {
		t.Fatalf("no consent page: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	doc := htmlDoc(t, r.Body)
	words := doc.Find("#consent-scopes li").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if len(words) != 4 || !strings.Contains(strings.Join(words, "|"), "Read your calendar") ||
		!strings.Contains(strings.Join(words, "|"), "email address") {
		t.Fatalf("scopes on the consent page: %q", words)
	}
	id, _ := doc.Find(`input[name="auth_request"]`).Attr("value")
	r = b.Post("/login/consent", url.Values{"auth_request": {id}, "decision": {"deny"}})
	to, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(to.String(), appCallback) ||
		to.Query().Get("error") != "access_denied" || to.Query().Get("iss") != p.h.Config.Issuer || to.Query().Get("state") != "st-1" {
		t.Fatalf("deny: %d %s", r.StatusCode, to)
	}

	// Allow.
	r, verifier := p.authorize(t, b, "openid email offline_access calendar:read", nil)
	doc = htmlDoc(t, r.Body)
	id, _ = doc.Find(`input[name="auth_request"]`).Attr("value")
	r = b.Post("/login/consent", url.Values{"auth_request": {id}, "decision": {"allow"}})
	to, _ = url.Parse(r.Header.Get("Location"))
	code := to.Query().Get("code")
	if r.StatusCode != http.StatusSeeOther || code == "" || to.Query().Get("iss") != p.h.Config.Issuer {
		t.Fatalf("allow: %d %s\n%s", r.StatusCode, to, r.Body)
	}
	status, tok := p.redeem(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {appCallback}, "code_verifier": {verifier}})
	refresh, _ := tok["refresh_token"].(string)
	if status != http.StatusOK || refresh == "" {
		t.Fatalf("token: %d %v", status, tok)
	}

	// Remembered: a subset goes straight to the app; prompt=consent asks.
	// (From /authorize itself: single sign-on needs no login page.)
	r, _ = p.authorize(t, b, "openid calendar:read", nil)
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || !strings.Contains(loc, "code=") {
		t.Fatalf("second visit: %d %s", r.StatusCode, loc)
	}
	r, _ = p.authorize(t, b, "openid", url.Values{"prompt": {"consent"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="consent"`) {
		t.Fatalf("prompt=consent: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// Connected apps, and revoke.
	acct := b.Get("/account")
	row := htmlDoc(t, acct.Body).Find(`#connected-apps tr[data-client="` + p.app.ClientID + `"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "Calendar sync") {
		t.Fatalf("the account page does not list the app:\n%s", acct.Body)
	}
	action, _ := row.Find("form").Attr("action")
	if r := b.Post(action, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d\n%s", r.StatusCode, r.Body)
	}
	if _, err := p.h.Store.Consent(context.Background(), p.user.ID, p.app.ClientID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the consent survived revocation: %v", err)
	}
	if status, body := p.redeem(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); status != http.StatusBadRequest {
		t.Fatalf("refresh after revoke: %d %v", status, body)
	}
	if acct := b.Get("/account"); strings.Contains(acct.Body, `data-client="`+p.app.ClientID+`"`) {
		t.Fatal("the revoked app is still listed")
	}
	events, err := p.h.Store.AuditEvents(context.Background(), store.AuditFilter{OrgID: p.org.ID})
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, e := range events {
		if e.TargetID == p.app.ClientID && e.ActorID == p.user.ID {
			audited[e.Action] = true
		}
	}
	if !audited["consent.grant"] || !audited["consent.revoke"] {
		t.Errorf("audit log: %v, want consent.grant and consent.revoke by the user", audited)
	}
	r, _ = p.authorize(t, b, "openid", nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="consent"`) {
		t.Fatalf("after revoke the app got in without consent: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	// Another person cannot revoke what is not theirs: nothing to find.
	other := p.h.User(t, p.org, "ole@acme.example", store.RoleMember, pw)
	ob := p.h.Client(t)
	ob.Login(other.Email, pw)
	if r := ob.Post("/account/apps/"+p.app.ClientID+"/revoke", nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking an app one never allowed: %d", r.StatusCode)
	}
}

// TestFirstPartyAppSkipsConsentAndOnlyPlatformAdminsMarkIt: the app page's
// first-party switch is for platform admins; once set, members go straight
// through.
func TestFirstPartyAppSkipsConsentAndOnlyPlatformAdminsMarkIt(t *testing.T) {
	p := newConsentPortal(t)
	ctx := context.Background()
	own, _, err := p.srv.Registrar().Register(ctx, p.org.ID, authserver.Actor{Label: "test"}, authserver.RegisterInput{
		Name: "Intranet", Type: store.ClientWeb, RedirectURIs: []string{appCallback}})
	if err != nil {
		t.Fatal(err)
	}
	admin := p.h.User(t, p.org, "ada@acme.example", store.RoleAdmin, pw)
	ab := p.h.Client(t)
	ab.Login(admin.Email, pw)
	if r := ab.Post("/apps/"+own.ClientID+"/first-party", url.Values{"first_party": {"true"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("an org admin marked an app first-party: %d", r.StatusCode)
	}
	if c, _ := p.h.Store.ClientByClientID(ctx, p.org.ID, own.ClientID); c.FirstParty {
		t.Fatal("the app became first-party")
	}
	if _, _, err := p.h.Store.UpdateUser(ctx, p.org.ID, admin.ID, func(u *store.User) error {
		u.PlatformAdmin = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r := ab.Post("/apps/"+own.ClientID+"/first-party", url.Values{"first_party": {"true"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("platform admin: %d\n%s", r.StatusCode, r.Body)
	}
	if c, _ := p.h.Store.ClientByClientID(ctx, p.org.ID, own.ClientID); !c.FirstParty {
		t.Fatal("the app is not first-party")
	}
	p.app = own
	b := p.h.Client(t)
	b.Login(p.user.Email, pw)
	r, _ := p.authorize(t, b, "openid profile", nil)
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || !strings.Contains(loc, "code=") {
		t.Fatalf("first-party app: %d %s", r.StatusCode, loc)
	}
}

// TestPasswordChangeGateHoldsForApps: a person whose password must be
// replaced (first run, an admin's reset) cannot sign in to an app with it
// before replacing it: the sign-in ends on the change form, and no code
// reaches the app.
func TestPasswordChangeGateHoldsForApps(t *testing.T) {
	p := newConsentPortal(t)
	ctx := context.Background()
	if _, err := p.srv.Registrar().SetFirstParty(ctx, p.app.OrgID, p.app.ClientID, authserver.Actor{Label: "test"}, true); err != nil {
		t.Fatal(err)
	}
	if err := p.h.Store.RequirePasswordChange(ctx, p.user.ID); err != nil {
		t.Fatal(err)
	}
	b := p.h.Client(t)
	r, _ := p.authorize(t, b, "openid", nil)
	m := regexp.MustCompile(`name="auth_request" value="([^"]+)"`).FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("no sign-in page for the app: %d", r.StatusCode)
	}
	r = b.Post("/login", url.Values{"email": {p.user.Email}, "password": {pw}, "auth_request": {m[1]}})
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/account/password" {
		t.Fatalf("sign-in for the app with a password to replace: %d %q, want the change form", r.StatusCode, loc)
	}
}

package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"portico/federation/federationtest"
	"portico/store"
)

// TestTwoOrganizationsSideBySide signs in people of two organizations
// through their own, different IdPs (an OIDC provider and a GitHub
// Enterprise stand-in) at the same time: each lands in their own
// organization, as a member, with the groups their IdP gave.
func TestTwoOrganizationsSideBySide(t *testing.T) {
	p := newSignInPortal(t)
	acme := p.Org(t, "acme", "acme.example")
	globex := p.Org(t, "globex", "globex.example")

	op := federationtest.NewOP(t, "portico-acme", "acme-secret", federationtest.Claims{
		Subject: "u-1", Email: "ada@acme.example", EmailVerified: true, Name: "Ada", Groups: []string{"developers", "staff"}})
	p.connection(t, acme, "oidc", "Acme SSO", "acme-secret", map[string]string{"issuer": op.URL, "client_id": "portico-acme"})

	gh := federationtest.NewGitHub(t, "gh-client", "gh-secret", federationtest.GitHubUser{
		ID: 42, Login: "grace", Name: "Grace", Email: "grace@globex.example"})
	p.connection(t, globex, "github", "Globex GitHub", "gh-secret", map[string]string{"client_id": "gh-client", "base_url": gh.URL})

	ada, grace := p.Client(t), p.Client(t)
	ra := p.federatedSignIn(t, ada, "ada@acme.example")
	rg := p.federatedSignIn(t, grace, "grace@globex.example")
	for name, r := range map[string]*http.Response{"ada": ra, "grace": rg} {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("%s: callback %d → %q\n%s", name, r.StatusCode, r.Header.Get("Location"), pageError(string(b)))
		}
	}
	if got := whoAmI(t, ada); got != "Ada · Acme" {
		t.Errorf("ada sees %q", got)
	}
	if got := whoAmI(t, grace); got != "Grace · Globex" {
		t.Errorf("grace sees %q", got)
	}
	ctx := context.Background()
	ua, err := p.Store.UserByEmail(ctx, acme.ID, "ada@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if ua.Role != store.RoleMember || !slices.Equal(ua.IdPGroups, []string{"developers", "staff"}) {
		t.Errorf("ada provisioned as %s with groups %v", ua.Role, ua.IdPGroups)
	}
	if _, err := p.Store.UserByEmail(ctx, globex.ID, "ada@acme.example"); err == nil {
		t.Error("ada exists in globex")
	}
	ug, err := p.Store.UserByEmail(ctx, globex.ID, "grace@globex.example")
	if err != nil || ug.OrgID != globex.ID {
		t.Fatalf("grace: %v %+v", err, ug)
	}

	// Groups follow the IdP on every sign-in.
	op.User.Groups = []string{"contractors"}
	r := p.federatedSignIn(t, p.Client(t), "ada@acme.example")
	r.Body.Close()
	ua2, _ := p.Store.UserByEmail(ctx, acme.ID, "ada@acme.example")
	if ua2.ID != ua.ID || !slices.Equal(ua2.IdPGroups, []string{"contractors"}) {
		t.Errorf("second sign-in: id %s→%s groups %v", ua.ID, ua2.ID, ua2.IdPGroups)
	}
}

// TestOIDCSignInRefused covers the answers that must not sign anyone in.
func TestOIDCSignInRefused(t *testing.T) {
	p := newSignInPortal(t)
	acme := p.Org(t, "acme", "acme.example")
	p.Org(t, "globex", "globex.example")
	op := federationtest.NewOP(t, "portico", "secret", federationtest.Claims{
		Subject: "u-1", Email: "ada@acme.example", EmailVerified: true, Name: "Ada"})
	p.connection(t, acme, "oidc", "Acme SSO", "secret", map[string]string{"issuer": op.URL, "client_id": "portico"})

	refused := func(t *testing.T, r *http.Response, status int, msg string) {
		t.Helper()
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != status || !strings.Contains(pageError(string(b)), msg) {
			t.Fatalf("status %d, message %q; want %d containing %q", r.StatusCode, pageError(string(b)), status, msg)
		}
	}
	t.Run("wrong state", func(t *testing.T) {
		c := p.Client(t)
		refused(t, follow(t, c, http.MethodGet, p.URL+"/login/callback?state=forged&code=x", nil), 400, "expired or was started in another browser")
	})
	t.Run("state from another browser", func(t *testing.T) {
		c := p.Client(t)
		r := c.Post("/login", url.Values{"email": {"ada@acme.example"}})
		up := follow(t, c, http.MethodGet, r.Header.Get("Location"), nil)
		up.Body.Close()
		refused(t, follow(t, p.Client(t), http.MethodGet, up.Header.Get("Location"), nil), 400, "another browser")
	})
	t.Run("wrong nonce", func(t *testing.T) {
		op.WrongNonce = true
		defer func() { op.WrongNonce = false }()
		refused(t, p.federatedSignIn(t, p.Client(t), "ada@acme.example"), 400, "could not be verified")
	})
	t.Run("ID token for another audience", func(t *testing.T) {
		op.Audience = "some-other-client"
		defer func() { op.Audience = "" }()
		refused(t, p.federatedSignIn(t, p.Client(t), "ada@acme.example"), 400, "could not be verified")
	})
	t.Run("email domain of another organization", func(t *testing.T) {
		op.User = federationtest.Claims{Subject: "u-2", Email: "eve@globex.example", EmailVerified: true, Name: "Eve"}
		defer func() { op.User.Email = "ada@acme.example" }()
		refused(t, p.federatedSignIn(t, p.Client(t), "ada@acme.example"), 403, "belongs to another organization")
	})
	t.Run("existing account, unverified email", func(t *testing.T) {
		p.User(t, acme, "bob@acme.example", store.RoleAdmin, "a long enough password")
		op.User = federationtest.Claims{Subject: "u-3", Email: "bob@acme.example", EmailVerified: false, Name: "Mallory"}
		refused(t, p.federatedSignIn(t, p.Client(t), "bob@acme.example"), 403, "did not confirm the address")
	})
	t.Run("existing platform admin, verified email", func(t *testing.T) {
		// An admin of the platform admin's own organization adds an IdP
		// that vouches for the platform admin's address.
		root := p.User(t, acme, "root@acme.example", store.RoleAdmin, "a long enough password")
		if _, _, err := p.Store.UpdateUser(context.Background(), acme.ID, root.ID, func(u *store.User) error {
			u.PlatformAdmin = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		op.User = federationtest.Claims{Subject: "u-4", Email: "root@acme.example", EmailVerified: true, Name: "Mallory"}
		refused(t, p.federatedSignIn(t, p.Client(t), "root@acme.example"), 403, "cannot be linked")
	})
	users, _ := p.Store.Users(context.Background(), acme.ID)
	for _, u := range users {
		if u.Email != "bob@acme.example" && u.Email != "root@acme.example" {
			t.Errorf("a refused sign-in left user %s", u.Email)
		}
	}
}

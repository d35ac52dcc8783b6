package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"portico/scim"
	"portico/store"
	"portico/store/storetest"
)

// world is a real SQLite store, two organizations and the SCIM server on a
// real httptest listener.
type world struct {
	t      *testing.T
	st     *store.Store
	srv    *scim.Server
	http   *httptest.Server
	acme   store.Organization
	globex store.Organization
	tokens map[string]string // org slug → bearer token
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{t: t, st: st, tokens: map[string]string{}}
	for _, o := range []*store.Organization{{Slug: "acme", Name: "Acme", Domains: []string{"okta.local", "contoso.example"}},
		{Slug: "globex", Name: "Globex", Domains: []string{"globex.example"}}} {
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	w.acme, _ = st.OrganizationBySlug(ctx, "acme")
	w.globex, _ = st.OrganizationBySlug(ctx, "globex")
	w.http = httptest.NewServer(nil)
	t.Cleanup(w.http.Close)
	w.srv, err = scim.New(ctx, st, w.http.URL, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.http.Config.Handler = w.srv
	for _, o := range []store.Organization{w.acme, w.globex} {
		tok, err := w.srv.IssueToken(ctx, store.Actor{Label: "admin@test"}, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[o.Slug] = tok
	}
	return w
}

// do sends a request as the organization's directory; body is a testdata
// file name (its {{KEY}} placeholders replaced from vars), raw JSON, or "".
func (w *world) do(org, method, path, body string, vars map[string]string) (int, map[string]any) {
	w.t.Helper()
	return w.doToken(w.tokens[org], org, method, path, body, vars)
}

func (w *world) doToken(token, org, method, path, body string, vars map[string]string) (int, map[string]any) {
	w.t.Helper()
	if strings.HasSuffix(body, ".json") {
		b, err := os.ReadFile(filepath.Join("testdata", body))
		if err != nil {
			w.t.Fatal(err)
		}
		body = string(b)
	}
	for k, v := range vars {
		body = strings.ReplaceAll(body, "{{"+k+"}}", v)
	}
	req, _ := http.NewRequest(method, w.http.URL+scim.Prefix+org+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			w.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			w.t.Errorf("content type %q", ct)
		}
	}
	return res.StatusCode, out
}

func (w *world) must(want, got int, out map[string]any, what string) {
	w.t.Helper()
	if got != want {
		w.t.Fatalf("%s: status %d, want %d: %v", what, got, want, out)
	}
}

func filter(f string) string { return "?filter=" + url.QueryEscape(f) }

// signedIn gives the user a portal session and a refresh-token family, to
// see both end.
func (w *world) signedIn(u store.User) {
	w.t.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := w.st.CreateSession(ctx, &store.Session{UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
		"hash-"+u.ID); err != nil {
		w.t.Fatal(err)
	}
	f := store.RefreshFamily{ClientID: "app", OrgID: u.OrgID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := w.st.CreateRefreshFamily(ctx, &f, store.RefreshToken{Hash: "rt-" + u.ID, CreatedAt: now}); err != nil {
		w.t.Fatal(err)
	}
}

// accessEnded reports whether the user has no session and no live refresh
// family left.
func (w *world) accessEnded(u store.User) bool {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.st.SessionByTokenHash(ctx, "hash-"+u.ID, time.Now()); err == nil {
		return false
	}
	_, fam, err := w.st.RefreshToken(ctx, "rt-"+u.ID)
	return err != nil || !fam.RevokedAt.IsZero()
}

func (w *world) user(id string) store.User {
	w.t.Helper()
	u, err := w.st.User(context.Background(), w.acme.ID, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

func TestOktaLifecycle(t *testing.T) {
	w := newWorld(t)
	// Okta looks the user up before creating them.
	code, out := w.do("acme", "GET", "/Users"+filter(`userName eq "test.user@okta.local"`)+"&startIndex=1&count=100", "", nil)
	w.must(200, code, out, "lookup")
	if out["totalResults"].(float64) != 0 || len(out["Resources"].([]any)) != 0 {
		t.Fatalf("lookup before create: %v", out)
	}
	code, out = w.do("acme", "POST", "/Users", "okta/create_user.json", nil)
	w.must(201, code, out, "create user")
	uid := out["id"].(string)
	if out["userName"] != "test.user@okta.local" || out["active"] != true || out["externalId"] != "00ujl29u0le5T6Aj10h7" {
		t.Fatalf("created: %v", out)
	}
	u := w.user(uid)
	if u.Role != store.RoleMember || u.Email != "test.user@okta.local" || u.Name != "Test User" || u.PasswordHash != "" {
		t.Fatalf("stored user: %+v", u)
	}
	code, out = w.do("acme", "POST", "/Users", "okta/create_user.json", nil)
	if w.must(409, code, out, "duplicate"); out["scimType"] != "uniqueness" {
		t.Fatalf("duplicate: %v", out)
	}
	for _, f := range []string{`userName eq "TEST.USER@okta.local"`, `externalId eq "00ujl29u0le5T6Aj10h7"`, `emails[type eq "work"].value eq "test.user@okta.local"`} {
		code, out = w.do("acme", "GET", "/Users"+filter(f), "", nil)
		if w.must(200, code, out, f); out["totalResults"].(float64) != 1 {
			t.Fatalf("%s: %v", f, out)
		}
	}
	code, out = w.do("acme", "GET", "/Users"+filter(`title co "x"`), "", nil)
	if w.must(400, code, out, "unsupported filter"); out["scimType"] != "invalidFilter" {
		t.Fatalf("unsupported filter: %v", out)
	}

	code, out = w.do("acme", "POST", "/Groups", "okta/create_group.json", nil)
	w.must(201, code, out, "create group")
	gid := out["id"].(string)
	vars := map[string]string{"USER_ID": uid, "GROUP_ID": gid}
	code, out = w.do("acme", "PATCH", "/Groups/"+gid, "okta/add_member.json", vars)
	w.must(204, code, out, "add member")
	code, out = w.do("acme", "PATCH", "/Groups/"+gid, "okta/rename_group.json", vars)
	w.must(204, code, out, "rename")
	if g := w.user(uid).Groups(); !slices.Equal(g, []string{"Engineering"}) {
		t.Fatalf("user groups after rename: %v", g)
	}
	code, out = w.do("acme", "GET", "/Groups"+filter(`displayName eq "Engineering"`)+"&excludedAttributes=members", "", nil)
	w.must(200, code, out, "group lookup")
	res := out["Resources"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["members"] != nil {
		t.Fatalf("group lookup: %v", out)
	}
	code, out = w.do("acme", "GET", "/Groups/"+gid, "", nil)
	if w.must(200, code, out, "get group"); len(out["members"].([]any)) != 1 {
		t.Fatalf("members: %v", out)
	}
	code, out = w.do("acme", "PATCH", "/Groups/"+gid, "okta/remove_member.json", vars)
	w.must(204, code, out, "remove member")
	if g := w.user(uid).Groups(); len(g) != 0 {
		t.Fatalf("user groups after removal: %v", g)
	}
	code, out = w.do("acme", "PUT", "/Users/"+uid, "okta/replace_user.json", vars)
	if w.must(200, code, out, "put"); w.user(uid).Name != "Another User" {
		t.Fatalf("after put: %+v", w.user(uid))
	}

	w.signedIn(w.user(uid))
	code, out = w.do("acme", "PATCH", "/Users/"+uid, "okta/deactivate_user.json", nil)
	if w.must(200, code, out, "deactivate"); out["active"] != false {
		t.Fatalf("deactivated: %v", out)
	}
	if u := w.user(uid); u.Status != store.UserDisabled || !w.accessEnded(u) {
		t.Fatalf("after deactivation: status %s, access ended %v", u.Status, w.accessEnded(u))
	}
	events, _ := w.st.AuditEvents(context.Background(), store.AuditFilter{OrgID: w.acme.ID, ActionPrefix: "scim.user."})
	if len(events) == 0 || events[0].Action != "scim.user.deactivate" {
		t.Fatalf("audit: %+v", events)
	}
	code, out = w.do("acme", "DELETE", "/Groups/"+gid, "", nil)
	w.must(204, code, out, "delete group")
	code, out = w.do("acme", "GET", "/Groups/"+gid, "", nil)
	w.must(404, code, out, "deleted group")
}

func TestEntraLifecycle(t *testing.T) {
	w := newWorld(t)
	code, out := w.do("acme", "POST", "/Users", "entra/create_user.json", nil)
	w.must(201, code, out, "create user")
	uid := out["id"].(string)
	if u := w.user(uid); u.Email != "test_user_fd0ea19b@contoso.example" || u.Name != "givenName familyName" {
		t.Fatalf("stored: %+v", u)
	}
	code, out = w.do("acme", "GET", "/Users"+filter(`userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"`), "", nil)
	if w.must(200, code, out, "lookup"); out["totalResults"].(float64) != 1 {
		t.Fatalf("lookup: %v", out)
	}
	code, out = w.do("acme", "PATCH", "/Users/"+uid, "entra/update_user.json", nil)
	w.must(200, code, out, "update")
	if u := w.user(uid); u.Email != "updated.email@contoso.example" || u.Attributes["family_name"] != "updatedFamilyName" {
		t.Fatalf("updated: %+v", u)
	}
	code, out = w.do("acme", "POST", "/Groups", "entra/create_group.json", nil)
	w.must(201, code, out, "create group")
	gid := out["id"].(string)
	vars := map[string]string{"USER_ID": uid}
	code, out = w.do("acme", "PATCH", "/Groups/"+gid, "entra/add_member.json", vars)
	w.must(204, code, out, "add member")
	if g := w.user(uid).Groups(); !slices.Equal(g, []string{"contractors"}) {
		t.Fatalf("groups: %v", g)
	}
	code, out = w.do("acme", "GET", "/Groups"+filter(`externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`), "", nil)
	if w.must(200, code, out, "group by externalId"); out["totalResults"].(float64) != 1 {
		t.Fatalf("by externalId: %v", out)
	}
	code, out = w.do("acme", "PATCH", "/Groups/"+gid, "entra/remove_member.json", vars)
	w.must(204, code, out, "remove member (lower-case operations)")
	if g := w.user(uid).Groups(); len(g) != 0 {
		t.Fatalf("groups after removal: %v", g)
	}
	w.signedIn(w.user(uid))
	code, out = w.do("acme", "PATCH", "/Users/"+uid, "entra/disable_user.json", nil)
	w.must(200, code, out, "disable with \"False\"")
	if u := w.user(uid); u.Status != store.UserDisabled || !w.accessEnded(u) {
		t.Fatalf("after disable: %+v", u)
	}
	code, out = w.do("acme", "DELETE", "/Users/"+uid, "", nil)
	w.must(204, code, out, "delete")
	if _, err := w.st.User(context.Background(), w.acme.ID, uid); err == nil {
		t.Fatal("the user was not deleted")
	}
}

func TestDeleteEndsAccess(t *testing.T) {
	w := newWorld(t)
	code, out := w.do("acme", "POST", "/Users", "okta/create_user.json", nil)
	w.must(201, code, out, "create")
	u := w.user(out["id"].(string))
	w.signedIn(u)
	code, out = w.do("acme", "DELETE", "/Users/"+u.ID, "", nil)
	w.must(204, code, out, "delete")
	if !w.accessEnded(u) {
		t.Fatal("sessions or refresh tokens survived the deletion")
	}
}

func TestBadInputStoresNothing(t *testing.T) {
	w := newWorld(t)
	cases := map[string]string{
		"no email":           `{"userName": "plainname"}`,
		"other org's domain": `{"userName": "spy@globex.example"}`,
		"not json":           `{"userName": `,
		"active not boolean": `{"userName": "a@okta.local", "active": "maybe"}`,
	}
	for name, body := range cases {
		code, out := w.do("acme", "POST", "/Users", body, nil)
		if code != 400 {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	if us, _ := w.st.Users(context.Background(), w.acme.ID); len(us) != 0 {
		t.Fatalf("stored: %+v", us)
	}
	code, out := w.do("acme", "POST", "/Groups", `{"displayName": "a, b"}`, nil)
	w.must(400, code, out, "comma in a group name")
	code, out = w.do("acme", "PATCH", "/Users/x", `{"schemas": []}`, nil)
	w.must(400, code, out, "patch without operations")
}

func TestTenantsAreIsolated(t *testing.T) {
	w := newWorld(t)
	code, out := w.do("acme", "POST", "/Users", "okta/create_user.json", nil)
	w.must(201, code, out, "create")
	uid := out["id"].(string)
	code, out = w.do("acme", "POST", "/Groups", "okta/create_group.json", nil)
	w.must(201, code, out, "create group")
	gid := out["id"].(string)

	// Globex's token does not open Acme's tenant.
	code, out = w.doToken(w.tokens["globex"], "acme", "GET", "/Users", "", nil)
	w.must(401, code, out, "other org's token")
	// Through its own tenant, Globex sees none of Acme's users or groups.
	for _, p := range []string{"/Users/" + uid, "/Groups/" + gid} {
		code, out = w.do("globex", "GET", p, "", nil)
		w.must(404, code, out, p)
		code, out = w.do("globex", "DELETE", p, "", nil)
		w.must(404, code, out, "delete "+p)
	}
	code, out = w.do("globex", "GET", "/Users", "", nil)
	if w.must(200, code, out, "list"); out["totalResults"].(float64) != 0 {
		t.Fatalf("globex sees: %v", out)
	}
	code, out = w.do("globex", "POST", "/Groups", "okta/create_group.json", nil)
	w.must(201, code, out, "globex group")
	code, out = w.do("globex", "PATCH", "/Groups/"+out["id"].(string), "okta/add_member.json", map[string]string{"USER_ID": uid})
	w.must(400, code, out, "adding another org's user")
	// Local groups are not the directory's.
	local := store.Group{OrgID: w.acme.ID, Name: "admins", Source: store.GroupLocal}
	if err := w.st.CreateGroup(context.Background(), &local); err != nil {
		t.Fatal(err)
	}
	code, out = w.do("acme", "DELETE", "/Groups/"+local.ID, "", nil)
	w.must(404, code, out, "deleting a local group")
	// A platform admin's account is never the directory's.
	pa := store.User{OrgID: w.acme.ID, Email: "root@okta.local", Name: "Root", Role: store.RoleAdmin, PlatformAdmin: true}
	if err := w.st.CreateUser(context.Background(), &pa); err != nil {
		t.Fatal(err)
	}
	code, out = w.do("acme", "PATCH", "/Users/"+pa.ID, "okta/deactivate_user.json", nil)
	w.must(404, code, out, "deactivating a platform admin")
}

func TestTokenRotationAndThrottle(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	code, out := w.doToken("", "acme", "GET", "/Users", "", nil)
	w.must(401, code, out, "no token")
	code, out = w.do("nosuchorg", "GET", "/Users", "", nil)
	w.must(401, code, out, "unknown organization")
	old := w.tokens["acme"]
	fresh, err := w.srv.IssueToken(ctx, store.Actor{Label: "admin@test"}, w.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, out = w.doToken(old, "acme", "GET", "/Users", "", nil)
	w.must(401, code, out, "rotated token")
	code, out = w.doToken(fresh, "acme", "GET", "/Users", "", nil)
	w.must(200, code, out, "new token")
	tok, err := w.st.SCIMTokenOf(ctx, w.acme.ID)
	if err != nil || strings.Contains(tok.Hash, fresh) || tok.Hash == "" || tok.LastUsedAt.IsZero() {
		t.Fatalf("stored token: %+v %v", tok, err)
	}
	for i := 0; i < 10; i++ {
		w.doToken("scim_wrong", "acme", "GET", "/Users", "", nil)
	}
	code, out = w.doToken(fresh, "acme", "GET", "/Users", "", nil)
	w.must(429, code, out, "after ten failures even the right token waits")
	// Another organization is not locked by it.
	code, out = w.do("globex", "GET", "/Users", "", nil)
	w.must(200, code, out, "other tenant")
}

func TestDiscovery(t *testing.T) {
	w := newWorld(t)
	for _, p := range []string{"/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/ResourceTypes/User",
		"/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"} {
		code, out := w.do("acme", "GET", p, "", nil)
		w.must(200, code, out, p)
	}
	code, out := w.do("acme", "GET", "/ServiceProviderConfig", "", nil)
	if out["patch"].(map[string]any)["supported"] != true || !strings.HasPrefix(out["meta"].(map[string]any)["location"].(string), w.http.URL+"/scim/v2/acme") {
		t.Fatalf("%d %v", code, out)
	}
}

func TestReactivationAndSuspendedOrganization(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	req, _ := http.NewRequest("POST", w.http.URL+scim.Prefix+"acme/Users", strings.NewReader(`{"userName":"re@okta.local","active":false}`))
	req.Header.Set("Authorization", "Bearer "+w.tokens["acme"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	uid, _ := out["id"].(string)
	if res.StatusCode != 201 || res.Header.Get("Location") != w.http.URL+"/scim/v2/acme/Users/"+uid {
		t.Fatalf("create: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if u := w.user(uid); u.Status != store.UserDisabled {
		t.Fatalf("created inactive: %+v", u)
	}
	code, out := w.do("acme", "PATCH", "/Users/"+uid, `{"Operations":[{"op":"Replace","path":"active","value":"True"}]}`, nil)
	if w.must(200, code, out, "reactivate"); w.user(uid).Status != store.UserActive {
		t.Fatal("not reactivated")
	}
	if _, _, err := w.st.UpdateOrganization(ctx, w.acme.ID, func(o *store.Organization) error {
		o.Status = store.OrgSuspended
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	code, out = w.do("acme", "GET", "/Users", "", nil)
	w.must(403, code, out, "suspended organization")
}

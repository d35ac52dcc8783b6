package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"portico/handlers/handlerstest"
	"portico/store"
)

// policyWorld is a portal with a platform admin, an org admin and a member
// of acme, an org admin of globex, and an app of acme.
type policyWorld struct {
	h                     *handlerstest.Harness
	acme, globex          store.Organization
	admin, acmeAdmin, mem *handlerstest.Client
	globexAdmin           *handlerstest.Client
}

func newPolicyWorld(t *testing.T) *policyWorld {
	t.Helper()
	ctx := context.Background()
	h := handlerstest.New(t)
	w := &policyWorld{h: h, acme: h.Org(t, "acme", "acme.example"), globex: h.Org(t, "globex", "globex.example")}
	staff := h.Org(t, "staff", "portico.example")
	pa := h.User(t, staff, "root@portico.example", store.RoleAdmin, pw)
	if _, _, err := h.Store.UpdateUser(ctx, staff.ID, pa.ID, func(u *store.User) error { u.PlatformAdmin = true; return nil }); err != nil {
		t.Fatal(err)
	}
	h.User(t, w.acme, "ada@acme.example", store.RoleAdmin, pw)
	h.User(t, w.acme, "mia@acme.example", store.RoleMember, pw)
	h.User(t, w.globex, "gus@globex.example", store.RoleAdmin, pw)
	login := func(email string) *handlerstest.Client {
		c := h.Client(t)
		c.Login(email, pw)
		return c
	}
	w.admin, w.acmeAdmin, w.mem, w.globexAdmin = login("root@portico.example"), login("ada@acme.example"), login("mia@acme.example"), login("gus@globex.example")
	if err := h.Store.CreateClient(ctx, &store.Client{OrgID: w.acme.ID, ClientID: "dev-portal", Name: "Dev portal",
		Type: store.ClientWeb, Enabled: true, TokenEndpointAuthMethod: "client_secret_basic"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ibmForm is IBM's example as the editor posts it.
func ibmForm(op string) url.Values {
	return url.Values{
		"op": {op}, "name": {"Development portal access"}, "kind": {"user_access"}, "default": {"deny"},
		"rule":    {"0", "1"},
		"r0.name": {"New location needs MFA"}, "r0.action": {"challenge"}, "r0.cond": {"0"}, "r0.c0.type": {"location"},
		"r1.name": {"Developers and contractors"}, "r1.action": {"permit"}, "r1.cond": {"0"}, "r1.c0.type": {"group"},
		"r1.c0.values": {"contractors\ndevelopers"},
	}
}

func TestPolicyEditorSaveVersionsRestore(t *testing.T) {
	w := newPolicyWorld(t)
	ctx := context.Background()

	// A bad address is refused whole with the message beside its textarea.
	bad := ibmForm("save")
	bad.Set("r1.c0.type", "ip")
	bad.Set("r1.c0.values", "10.0.0.0/8\n10.0.0.0/33")
	r := w.admin.Post("/admin/policies/new", bad)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad save: %d", r.StatusCode)
	}
	d := doc(t, r.Body)
	if got := d.Find("#cond-1-0 .field-error").Text(); !strings.Contains(got, `line 2: "10.0.0.0/33" is not an IP range`) {
		t.Fatalf("inline error: %q", got)
	}
	if v, _ := d.Find(`textarea[name="r1.c0.values"]`).Attr("aria-invalid"); v != "true" {
		t.Fatal("textarea not marked invalid")
	}
	if ps, _ := w.h.Store.Policies(ctx); len(ps) != 0 {
		t.Fatal("an invalid policy was stored")
	}

	// Good: 303 to the policy, version 1.
	r = w.admin.Post("/admin/policies/new", ibmForm("save"))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, r.Body)
	}
	loc := r.Header.Get("Location")
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/admin/policies/")
	r = w.admin.Get(loc)
	d = doc(t, r.Body)
	if got := strings.Join(d.Find("#policy-summary li").Map(func(_ int, s *goquery.Selection) string { return strings.TrimSpace(s.Text()) }), " "); got != "If the location is new → Challenge. Else if the user is in contractors or developers → Permit. Otherwise → Deny." {
		t.Fatalf("summary: %q", got)
	}
	if !strings.Contains(r.Body, "IP2Location") {
		t.Fatal("no attribution on the editor")
	}

	// Second version drops contractors; stale base conflicts.
	f := ibmForm("save")
	f.Set("base", "1")
	f.Set("r1.c0.values", "developers")
	if r := w.admin.Post("/admin/policies/"+id, f); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save 2: %d", r.StatusCode)
	}
	if r := w.admin.Post("/admin/policies/"+id, f); r.StatusCode != http.StatusConflict {
		t.Fatalf("stale save: %d", r.StatusCode)
	}
	r = w.admin.Get("/admin/policies/" + id + "/diff?a=1&b=2")
	d = doc(t, r.Body)
	if !strings.Contains(d.Find("#diff .diff-del").Text(), `"contractors"`) {
		t.Fatalf("diff: %s", d.Find("#diff").Text())
	}
	if r := w.admin.Post("/admin/policies/"+id+"/versions/1/restore", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d", r.StatusCode)
	}
	p, _ := w.h.Store.Policy(ctx, id)
	if p.CurrentVersion != 3 {
		t.Fatalf("after restore: version %d", p.CurrentVersion)
	}
	r = w.admin.Get("/admin/policies/" + id + "/versions")
	if n := doc(t, r.Body).Find("#versions tbody tr").Length(); n != 3 {
		t.Fatalf("versions listed: %d", n)
	}

	// Export, and import of the export as a new version.
	r = w.admin.Get("/admin/policies/" + id + "/export")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), "development-portal-access.json") {
		t.Fatalf("export: %d %v", r.StatusCode, r.Header)
	}
	if r := w.admin.Post("/admin/policies/import", url.Values{"json": {r.Body}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d %s", r.StatusCode, r.Body)
	}
	r = w.admin.Post("/admin/policies/import", url.Values{"json": {`{"name":"x","kind":"user_access","rules":[],"default":"maybe"}`}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc(t, r.Body).Find("#import-problems").Text(), "default") {
		t.Fatalf("bad import: %d", r.StatusCode)
	}

	// Attach to the app; the policy page lists it.
	if r := w.admin.Post("/admin/policies/"+id+"/attach", url.Values{"target": {"app:dev-portal"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("attach: %d %s", r.StatusCode, r.Body)
	}
	r = w.admin.Get("/admin/policies/" + id)
	if got := doc(t, r.Body).Find("#used-by").Text(); !strings.Contains(got, "dev-portal") || !strings.Contains(got, "Dev portal") {
		t.Fatal("used-by does not list the app")
	}
}

func TestPolicyEditorOpsWithoutJavaScript(t *testing.T) {
	w := newPolicyWorld(t)
	f := ibmForm("down:0")
	r := w.admin.Post("/admin/policies/new", f)
	d := doc(t, r.Body)
	if r.StatusCode != http.StatusOK || d.Find(`input[name="r0.name"]`).AttrOr("value", "") != "Developers and contractors" {
		t.Fatalf("move down: %d %q", r.StatusCode, d.Find(`input[name="r0.name"]`).AttrOr("value", ""))
	}
	f = ibmForm("add-cond:1")
	f.Set("r1.newtype", "time")
	d = doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if d.Find(`input[name="r1.c1.tz"]`).Length() != 1 || d.Find(`input[name="r1.c1.days"]`).Length() != 7 {
		t.Fatal("added time condition has no inputs")
	}
	f = ibmForm("del-rule:0")
	d = doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if d.Find("li.rule").Length() != 1 {
		t.Fatalf("remove rule: %d rules left", d.Find("li.rule").Length())
	}
	f = ibmForm("add-rule")
	f.Set("newrule.type", "country")
	d = doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if d.Find("li.rule").Length() != 3 {
		t.Fatal("add rule")
	}
	// The new rule starts with the chosen condition type, not a group.
	if d.Find("#rule-2 #cond-2-0").Length() != 1 || d.Find(`#rule-2 input[name="r2.c0.values"]`).Length() != 0 {
		t.Errorf("the new rule does not start with the chosen (country) condition:\n%s", d.Find("#rule-2").Text())
	}
	// The page order wins: a drag-and-drop reorder only reorders the fields.
	f = ibmForm("refresh")
	f["rule"] = []string{"1", "0"}
	d = doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if !strings.HasPrefix(strings.TrimSpace(d.Find("#policy-summary li").First().Text()), "If the user is in contractors") {
		t.Fatalf("reorder by field order: %q", d.Find("#policy-summary li").First().Text())
	}
}

func TestPolicySimulatorOnDraft(t *testing.T) {
	w := newPolicyWorld(t)
	f := ibmForm("simulate")
	f.Set("sim.groups", "contractors")
	f.Set("sim.ip", "198.51.100.4")
	f.Set("sim.country", "BR")
	f.Set("sim.time", "2026-11-23T23:00")
	f.Set("sim.locations", "203.0.113.0/24")
	r := w.admin.Post("/admin/policies/new", f)
	d := doc(t, r.Body)
	if r.StatusCode != http.StatusOK || strings.TrimSpace(d.Find("#sim-action").Text()) != "challenge" {
		t.Fatalf("simulate: %d %q", r.StatusCode, d.Find("#sim-result").Text())
	}
	if !d.Find("#rule-0").HasClass("decided") || d.Find("#rule-1").HasClass("decided") {
		t.Fatal("deciding rule not highlighted")
	}
	if !strings.Contains(d.Find("#sim-after").Text(), "permit") {
		t.Fatalf("after step-up: %q", d.Find("#sim-after").Text())
	}
	// A user in neither group at a remembered location: rule 1 failed because
	// the location is remembered, rule 2 because of the groups.
	f.Set("sim.groups", "sales")
	f.Set("sim.ip", "203.0.113.9")
	d = doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if strings.TrimSpace(d.Find("#sim-action").Text()) != "deny" {
		t.Fatalf("deny: %q", d.Find("#sim-result").Text())
	}
	if !strings.Contains(d.Find("#rule-0 .sim-failed").Text(), "remembered location") ||
		!strings.Contains(d.Find("#rule-1 .sim-failed").Text(), `"sales"`) {
		t.Fatalf("failed conditions: %q / %q", d.Find("#rule-0 .sim-failed").Text(), d.Find("#rule-1 .sim-failed").Text())
	}
	f.Set("sim.ip", "not-an-ip")
	r = w.admin.Post("/admin/policies/new", f)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "is not an IP address") {
		t.Fatalf("bad sample: %d", r.StatusCode)
	}
	if ps, _ := w.h.Store.Policies(context.Background()); len(ps) != 0 {
		t.Fatal("simulating stored the draft")
	}
}

func TestPolicyAuthoringIsPlatformAdminOnly(t *testing.T) {
	w := newPolicyWorld(t)
	for _, c := range []*handlerstest.Client{w.acmeAdmin, w.mem} {
		if r := c.Get("/admin/policies"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("list: %d", r.StatusCode)
		}
		if r := c.Post("/admin/policies/new", ibmForm("save")); r.StatusCode != http.StatusForbidden {
			t.Fatalf("save: %d", r.StatusCode)
		}
	}
	if ps, _ := w.h.Store.Policies(context.Background()); len(ps) != 0 {
		t.Fatal("a non-admin stored a policy")
	}
	// Without the CSRF field nothing happens.
	f := ibmForm("save")
	if r := w.admin.PostRaw("/admin/policies/new", f); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusBadRequest {
		t.Fatalf("no CSRF: %d", r.StatusCode)
	}
}

func TestPolicyEditorEscapesHTML(t *testing.T) {
	w := newPolicyWorld(t)
	f := ibmForm("simulate")
	f.Set("name", `<script>alert(1)</script>`)
	f.Set("r0.name", `<img src=x onerror=alert(2)>`)
	f.Set("r1.c0.values", "<script>alert(3)</script>\ndevelopers")
	f.Set("sim.groups", `"><script>alert(4)</script>`)
	r := w.admin.Post("/admin/policies/new", f)
	for _, bad := range []string{"<script>alert", "<img src=x"} {
		if strings.Contains(r.Body, bad) {
			t.Fatalf("unescaped %q in the editor", bad)
		}
	}
	if !strings.Contains(r.Body, "&lt;script&gt;alert(3)") {
		t.Fatal("the group was not shown escaped")
	}
}

func TestDecisionLogScopedToOrg(t *testing.T) {
	w := newPolicyWorld(t)
	ctx := context.Background()
	ds := []store.Decision{
		{ID: "acmeref1", Point: "authorize", OrgID: w.acme.ID, Subject: "mia@acme.example", ClientID: "dev-portal", Action: "deny", Reason: "=cmd|' /C calc'!A0"},
		{ID: "acmeref2", Point: "launch", OrgID: w.acme.ID, Subject: "mia@acme.example", Action: "permit", Reason: "ok"},
		{ID: "globexref", Point: "authorize", OrgID: w.globex.ID, Subject: "gus@globex.example", Action: "permit", Reason: "ok"},
	}
	if _, err := w.h.Store.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	// The store gives each decision its own time-ordered ID.
	acmeref1, acmeref2, globexref := ds[0].ID, ds[1].ID, ds[2].ID
	rows := func(c *handlerstest.Client, q string) string {
		r := c.Get("/decisions" + q)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("decisions%s: %d", q, r.StatusCode)
		}
		return doc(t, r.Body).Find("#decisions tbody").Text()
	}
	if got := rows(w.admin, ""); !strings.Contains(got, "globex") || !strings.Contains(got, "acme") {
		t.Fatalf("platform admin sees: %s", got)
	}
	if got := rows(w.admin, "?org=globex"); strings.Contains(got, "mia@") {
		t.Fatalf("org filter: %s", got)
	}
	if got := rows(w.acmeAdmin, "?org=globex"); strings.Contains(got, "gus@") || !strings.Contains(got, "mia@") {
		t.Fatalf("org admin escaped their org: %s", got)
	}
	if got := rows(w.acmeAdmin, "?action=deny"); strings.Count(got, "mia@") != 1 {
		t.Fatalf("action filter: %s", got)
	}
	if r := w.acmeAdmin.Get("/decisions/" + globexref); r.StatusCode != http.StatusNotFound {
		t.Fatalf("cross-org reference: %d", r.StatusCode)
	}
	if r := w.acmeAdmin.Get("/decisions?ref=" + acmeref1); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/decisions/"+acmeref1 {
		t.Fatalf("lookup by reference: %d", r.StatusCode)
	}
	if r := w.acmeAdmin.Get("/decisions/" + acmeref1); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "IP2Location") {
		t.Fatalf("detail: %d", r.StatusCode)
	}
	r := w.acmeAdmin.Get("/decisions/export.csv")
	if r.StatusCode != http.StatusOK || strings.Contains(r.Body, "globex") || !strings.Contains(r.Body, "'=cmd") {
		t.Fatalf("csv: %d\n%s", r.StatusCode, r.Body)
	}
	if r := w.mem.Get("/decisions"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("member: %d", r.StatusCode)
	}
	if r := w.globexAdmin.Get("/decisions/" + acmeref2); r.StatusCode != http.StatusNotFound {
		t.Fatalf("globex admin reads acme: %d", r.StatusCode)
	}
}

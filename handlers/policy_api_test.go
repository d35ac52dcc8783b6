package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portico/store"
)

// customersForm is the seed's sales-rep rule as the editor posts it.
func customersForm(op string) url.Values {
	return url.Values{
		"op": {op}, "name": {"Customers API"}, "kind": {"api_request"}, "default": {"deny"}, "mode": {"rules"},
		"rule": {"0"}, "r0.name": {"Sales reps read their own customers"}, "r0.action": {"permit"}, "r0.cond": {"0", "1", "2"},
		"r0.c0.type": {"method"}, "r0.c0.values": {"GET"},
		"r0.c1.type": {"path"}, "r0.c1.values": {"/customers/{id}"},
		"r0.c2.type": {"param_in_attribute"}, "r0.c2.source": {"param"}, "r0.c2.key": {"id"}, "r0.c2.attr": {"assigned_customers"},
	}
}

// The editor builds, simulates and saves an API request policy, in rules
// and in Rego, and shows a Rego compile error with its line.
func TestPolicyEditorAPIRequestAndRego(t *testing.T) {
	w := newPolicyWorld(t)
	f := customersForm("simulate")
	f.Set("sim.method", "GET")
	f.Set("sim.path", "/customers/c-2")
	f.Set("sim.attributes", "assigned_customers=c-1,c-2")
	d := doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if got := strings.TrimSpace(d.Find("#sim-action").Text()); got != "permit" {
		t.Fatalf("simulate own customer: %q %q", got, d.Find("#sim-result").Text())
	}
	f.Set("sim.path", "/customers/c-3")
	d = doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if got := strings.TrimSpace(d.Find("#sim-action").Text()); got != "deny" {
		t.Fatalf("simulate another customer: %q", got)
	}
	// A value-in-attribute condition without a path parameter to read.
	bad := customersForm("save")
	bad.Set("r0.c2.key", "nope")
	r := w.admin.Post("/admin/policies/new", bad)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "no path condition of this rule has a pattern with {nope}") {
		t.Fatalf("bad param: %d", r.StatusCode)
	}
	if r := w.admin.Post("/admin/policies/new", customersForm("save")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save rules: %d %s", r.StatusCode, r.Body)
	}

	// Rego mode.
	rg := url.Values{"op": {"simulate"}, "name": {"Customers (Rego)"}, "kind": {"api_request"}, "mode": {"rego"}, "default": {"deny"},
		"rego":       {"package portico\n\ndecision := {\"action\": \"permit\", \"reason\": \"GETs are fine\"} if input.request.method == \"GET\"\n"},
		"sim.method": {"GET"}, "sim.path": {"/customers/c-9"}}
	d = doc(t, w.admin.Post("/admin/policies/new", rg).Body)
	if got := strings.TrimSpace(d.Find("#sim-action").Text()); got != "permit" {
		t.Fatalf("Rego simulate: %q %q", got, d.Find("#sim-result").Text())
	}
	rg.Set("op", "save")
	rg.Set("rego", "package portico\n\ndecision := {\"action\": \"permit\"} if {\n\tinput.request.method ==\n}\n")
	r = w.admin.Post("/admin/policies/new", rg)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc(t, r.Body).Find("#err-rego").Text(), "line 5") {
		t.Fatalf("Rego compile error: %d %q", r.StatusCode, doc(t, r.Body).Find("#err-rego").Text())
	}
	rg.Set("rego", "package portico\n\ndefault decision := {\"action\": \"deny\"}\n")
	if r := w.admin.Post("/admin/policies/new", rg); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save Rego: %d", r.StatusCode)
	}
	ps, err := w.h.Store.Policies(context.Background())
	if err != nil || len(ps) != 2 {
		t.Fatalf("saved policies: %v %v", ps, err)
	}
}

// An API request policy is attached to, and detached from, an API route on
// its page; other kinds are not offered routes.
func TestPolicyAttachToRoute(t *testing.T) {
	w := newPolicyWorld(t)
	if r := w.admin.Post("/admin/policies/new", customersForm("save")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	ctx := context.Background()
	ps, _ := w.h.Store.Policies(ctx)
	page := "/admin/policies/" + ps[0].ID
	d := doc(t, w.admin.Get(page).Body)
	if d.Find("#attach-route").Length() != 1 {
		t.Fatal("no route form on an API request policy")
	}
	r := w.admin.Post(page+"/attach", url.Values{"target": {"route"}, "path_prefix": {"/customers/"}, "host": {"API.example"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("attach route: %d %s", r.StatusCode, r.Body)
	}
	routes, _ := w.h.Store.APIRoutes(ctx, ps[0].ID)
	if len(routes) != 1 || routes[0].PathPrefix != "/customers" || routes[0].Host != "api.example" {
		t.Fatalf("routes: %+v", routes)
	}
	if !strings.Contains(doc(t, w.admin.Get(page).Body).Find("#used-by").Text(), "API requests to /customers on api.example") {
		t.Fatal("the route is not listed under Used by")
	}
	if r := w.admin.Post(page+"/attach", url.Values{"target": {"route"}, "path_prefix": {"customers?x"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad prefix: %d", r.StatusCode)
	}
	// Only a platform admin attaches.
	if r := w.acmeAdmin.Post(page+"/attach", url.Values{"target": {"route"}, "path_prefix": {"/x"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("org admin attaches: %d", r.StatusCode)
	}
	if r := w.admin.Post(page+"/detach", url.Values{"target": {"route:" + routes[0].ID}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("detach: %d", r.StatusCode)
	}
	if routes, _ := w.h.Store.APIRoutes(ctx, ""); len(routes) != 0 {
		t.Fatalf("after detach: %+v", routes)
	}
	// A user-access policy cannot take a route.
	if r := w.admin.Post("/admin/policies/new", ibmForm("save")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save ibm: %d", r.StatusCode)
	}
	ps, _ = w.h.Store.Policies(ctx)
	for _, p := range ps {
		if p.Kind == "user_access" {
			if r := w.admin.Post("/admin/policies/"+p.ID+"/attach", url.Values{"target": {"route"}, "path_prefix": {"/x"}}); r.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("route for a user-access policy: %d", r.StatusCode)
			}
		}
	}
}

// The editor's value-in-attribute condition can read the organization's
// attribute; the simulator takes organization attributes, and the saved
// document says "of": "org".
func TestPolicyEditorOrgAttribute(t *testing.T) {
	w := newPolicyWorld(t)
	f := customersForm("simulate")
	f.Set("r0.c2.of", "org")
	f.Set("r0.c2.attr", "key_accounts")
	f.Set("sim.method", "GET")
	f.Set("sim.path", "/customers/c-2")
	f.Set("sim.attributes", "key_accounts=c-2")
	d := doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if got := strings.TrimSpace(d.Find("#sim-action").Text()); got != "deny" {
		t.Fatalf("a user attribute counted for the organization's: %q", got)
	}
	f.Set("sim.org_attributes", "key_accounts=c-1,c-2")
	d = doc(t, w.admin.Post("/admin/policies/new", f).Body)
	if got := strings.TrimSpace(d.Find("#sim-action").Text()); got != "permit" {
		t.Fatalf("simulate with the organization's attribute: %q %q", got, d.Find("#sim-result").Text())
	}
	if sel := d.Find(`select[name="r0.c2.of"] option[selected]`).AttrOr("value", ""); sel != "org" {
		t.Fatalf("the form forgot whose attribute: %q", sel)
	}
	f.Set("op", "save")
	if r := w.admin.Post("/admin/policies/new", f); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, r.Body)
	}
	ps, err := w.h.Store.Policies(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatalf("saved policies: %v %v", ps, err)
	}
	v, err := w.h.Store.PolicyVersion(context.Background(), ps[0].ID, ps[0].CurrentVersion)
	if err != nil || !strings.Contains(strings.ReplaceAll(string(v.Document), " ", ""), `"of":"org"`) {
		t.Fatalf("saved document: %v %s", err, v.Document)
	}
}

// An API request policy is attached to a registered API (from the APIs the
// platform registered, offered in a select), for the whole API or under a
// prefix; an identifier no API has is refused and nothing is stored.
func TestPolicyAttachToRegisteredAPI(t *testing.T) {
	w := newPolicyWorld(t)
	ctx := context.Background()
	inv := store.API{Identifier: "https://inventory.example/api", Name: "Inventory", Scopes: []store.APIScope{{Name: "inv:read"}}}
	if err := w.h.Store.CreateAPI(ctx, &inv); err != nil {
		t.Fatal(err)
	}
	if r := w.admin.Post("/admin/policies/new", customersForm("save")); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	ps, _ := w.h.Store.Policies(ctx)
	page := "/admin/policies/" + ps[0].ID
	d := doc(t, w.admin.Get(page).Body)
	if d.Find(`#attach-route select[name="api"] option[value="https://inventory.example/api"]`).Length() != 1 {
		t.Fatal("the registered API is not offered")
	}
	if r := w.admin.Post(page+"/attach", url.Values{"target": {"route"}, "api": {"https://inventory.example/api"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("attach to the API: %d %s", r.StatusCode, r.Body)
	}
	r := w.admin.Post(page+"/attach", url.Values{"target": {"route"}, "api": {"https://nope.example/api"}, "path_prefix": {"/x"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "No API is registered") {
		t.Fatalf("unknown API: %d", r.StatusCode)
	}
	routes, _ := w.h.Store.APIRoutes(ctx, ps[0].ID)
	if len(routes) != 1 || routes[0].API != inv.Identifier || routes[0].PathPrefix != "/" {
		t.Fatalf("routes: %+v", routes)
	}
	if !strings.Contains(doc(t, w.admin.Get(page).Body).Find("#used-by").Text(), "API requests to / of API https://inventory.example/api") {
		t.Fatal("the API route is not listed under Used by")
	}
}

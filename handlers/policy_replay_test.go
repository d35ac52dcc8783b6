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
	"portico/handlers/handlerstest"
	"portico/policyeditor"
	"portico/store"
)

// replayWorld is policyWorld with IBM's example saved and two logged
// launches decided by its rule 2: a developer's and a contractor's.
func replayWorld(t *testing.T) (*policyWorld, store.Policy, map[string]string) {
	t.Helper()
	w := newPolicyWorld(t)
	ctx := context.Background()
	r := w.admin.Post("/admin/policies/new", ibmForm("save"))
	if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	p, err := w.h.Store.PolicyByName(ctx, "Development portal access")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, g := range []string{"developers", "contractors"} {
		cx, _ := json.Marshal(policyeditor.ContextOf(&policyeditor.Request{Org: "acme",
			User: policyeditor.User{Groups: []string{g}}}, false))
		ds := []store.Decision{{At: time.Now().Add(-time.Hour), Point: "launch", OrgID: w.acme.ID, UserID: "u-" + g,
			Subject: g + "@acme.example", ClientID: "dev-portal", Context: cx, PolicyID: p.ID, PolicyVersion: 1, Rule: 2,
			Action: "permit", Reason: "developers and contractors"}}
		if _, err := w.h.Store.InsertDecisions(ctx, ds); err != nil {
			t.Fatal(err)
		}
		ids[g] = ds[0].ID
	}
	return w, p, ids
}

func strictForm(op string) url.Values {
	f := ibmForm(op)
	f.Set("r1.c0.values", "developers")
	return f
}

func TestPolicyReplayDraftSamplesAndSimulator(t *testing.T) {
	w, p, ids := replayWorld(t)
	r := w.admin.Post("/admin/policies/"+p.ID, strictForm("replay"))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("replay: %d %s", r.StatusCode, r.Body)
	}
	d := doc(t, r.Body)
	if got := d.Find("#replay-changed").Text(); got != "1" {
		t.Fatalf("changed: %q", got)
	}
	if got := d.Find(`#replay-matrix tr[data-from="permit"][data-to="deny"] .count`).Text(); got != "1" {
		t.Fatalf("permit→deny: %q", got)
	}
	sample := d.Find(`tr.replay-sample[data-to="deny"]`)
	if sample.Length() != 1 || sample.AttrOr("data-decision", "") != ids["contractors"] {
		t.Fatalf("samples: %d %q, want %s", sample.Length(), sample.AttrOr("data-decision", ""), ids["contractors"])
	}
	// A sample opens in the simulator, which runs the draft on its request.
	f := strictForm("")
	f.Set("sim_decision", ids["contractors"])
	r = w.admin.Post("/admin/policies/"+p.ID, f)
	sd := doc(t, r.Body)
	if r.StatusCode != http.StatusOK || sd.Find(`input[name="sim.groups"]`).AttrOr("value", "") != "contractors" ||
		!strings.Contains(sd.Find("#simulator").Text(), "deny") {
		t.Fatalf("sample in the simulator: %d %q", r.StatusCode, sd.Find("#simulator").Text())
	}
	// A bad window is refused, and the draft is not saved.
	bad := strictForm("replay")
	bad.Set("replay_days", "0")
	if r := w.admin.Post("/admin/policies/"+p.ID, bad); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("0 days: %d", r.StatusCode)
	}
	if pp, _ := w.h.Store.Policy(context.Background(), p.ID); pp.CurrentVersion != 1 || pp.ShadowVersion != 0 {
		t.Fatalf("a preview stored something: %+v", pp)
	}
	// A saved version's preview, and its sample links.
	r = w.admin.Get("/admin/policies/" + p.ID + "/replay?version=1")
	if r.StatusCode != http.StatusOK || doc(t, r.Body).Find("#replay-changed").Text() != "0" {
		t.Fatalf("version 1 over its own decisions: %d", r.StatusCode)
	}
	r = w.admin.Get("/admin/policies/" + p.ID + "?decision=" + ids["developers"])
	if r.StatusCode != http.StatusOK || doc(t, r.Body).Find(`input[name="sim.groups"]`).AttrOr("value", "") != "developers" {
		t.Fatalf("decision in the simulator: %d", r.StatusCode)
	}
	if r := w.admin.Get("/admin/policies/" + p.ID + "?decision=nope"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown decision: %d", r.StatusCode)
	}
}

func TestPolicyShadowPromote(t *testing.T) {
	w, p, _ := replayWorld(t)
	ctx := context.Background()
	r := w.admin.Post("/admin/policies/"+p.ID, strictForm("shadow"))
	if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save shadow: %d", r.StatusCode)
	}
	pp, _ := w.h.Store.Policy(ctx, p.ID)
	if pp.CurrentVersion != 1 || pp.ShadowVersion != 2 {
		t.Fatalf("after save shadow: %+v", pp)
	}
	// A decision with a disagreeing shadow shows in the section.
	shadowed := []store.Decision{{Point: "launch", OrgID: w.acme.ID, Subject: "c@acme.example",
		ClientID: "dev-portal", PolicyID: p.ID, PolicyVersion: 1, Rule: 2, Action: "permit", Reason: "x",
		ShadowVersion: 2, ShadowAction: "deny", ShadowReason: "y"}}
	if _, err := w.h.Store.InsertDecisions(ctx, shadowed); err != nil {
		t.Fatal(err)
	}
	// The decision's page shows what the report-only version decided.
	if got := doc(t, w.admin.Get("/decisions/"+shadowed[0].ID).Body).Find("#decision-shadow").Text(); got != "version 2 would have decided deny (the default): y" {
		t.Fatalf("decision page: %q", got)
	}
	r = w.admin.Get("/admin/policies/" + p.ID + "/shadow")
	d := doc(t, r.Body)
	if r.StatusCode != http.StatusOK || d.Find("#shadow-disagreed").Text() != "1" || d.Find("#shadow-of").Text() != "2" {
		t.Fatalf("shadow section: %d %q", r.StatusCode, d.Find("#shadow").Text())
	}
	// Only platform admins, and only with the CSRF field.
	for _, c := range []*handlerstest.Client{w.acmeAdmin, w.mem} {
		if r := c.Post("/admin/policies/"+p.ID+"/promote", url.Values{"version": {"2"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin promote: %d", r.StatusCode)
		}
		if r := c.Get("/admin/policies/" + p.ID + "/replay?version=1"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("non-admin replay: %d", r.StatusCode)
		}
	}
	if r := w.admin.PostRaw("/admin/policies/"+p.ID+"/promote", url.Values{"version": {"2"}}); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusBadRequest {
		t.Fatalf("promote without CSRF: %d", r.StatusCode)
	}
	if r := w.admin.Post("/admin/policies/"+p.ID+"/promote", url.Values{"version": {"1"}}); r.StatusCode != http.StatusConflict {
		t.Fatalf("promote the enforced version: %d", r.StatusCode)
	}
	if pp, _ := w.h.Store.Policy(ctx, p.ID); pp.CurrentVersion != 1 || pp.ShadowVersion != 2 {
		t.Fatalf("refused promotes changed the policy: %+v", pp)
	}
	if r := w.admin.Post("/admin/policies/"+p.ID+"/promote", url.Values{"version": {"2"}}); r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("promote: %d", r.StatusCode)
	}
	if pp, _ := w.h.Store.Policy(ctx, p.ID); pp.CurrentVersion != 2 || pp.ShadowVersion != 0 {
		t.Fatalf("after promote: %+v", pp)
	}
	// Attaching a saved version: the enforced one is refused.
	if r := w.admin.Post("/admin/policies/"+p.ID+"/shadow", url.Values{"version": {"2"}}); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("shadow of the enforced version: %d", r.StatusCode)
	}
	if r := w.admin.Post("/admin/policies/"+p.ID+"/shadow", url.Values{"version": {"1"}}); r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("shadow of version 1: %d", r.StatusCode)
	}
	if r := w.admin.Post("/admin/policies/"+p.ID+"/shadow/detach", url.Values{}); r.StatusCode != http.StatusOK && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("detach: %d", r.StatusCode)
	}
	if pp, _ := w.h.Store.Policy(ctx, p.ID); pp.ShadowVersion != 0 {
		t.Fatalf("after detach: %+v", pp)
	}
}

// TestPolicyReplayProgress: a preview that takes longer than the page waits
// shows its progress, which the page polls until the result replaces it;
// another admin cannot read the job.
func TestPolicyReplayProgress(t *testing.T) {
	ctx := context.Background()
	h := handlerstest.New(t, func(c *handlers.Config) { c.PolicyReplayWait = time.Nanosecond })
	staff := h.Org(t, "staff", "portico.example")
	var clients []*handlerstest.Client
	for _, email := range []string{"root@portico.example", "ops@portico.example"} {
		u := h.User(t, staff, email, store.RoleAdmin, pw)
		if _, _, err := h.Store.UpdateUser(ctx, staff.ID, u.ID, func(u *store.User) error { u.PlatformAdmin = true; return nil }); err != nil {
			t.Fatal(err)
		}
		c := h.Client(t)
		c.Login(email, pw)
		clients = append(clients, c)
	}
	root, ops := clients[0], clients[1]
	svc := &policyeditor.Service{Store: h.Store}
	d, err := policyeditor.ParseDocument([]byte(`{"name":"P","kind":"user_access","default":"deny","rules":[
		{"conditions":[{"type":"group","any_of":["contractors","developers"]}],"action":"permit"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := svc.Save(ctx, store.Actor{Label: "t"}, "", 0, d, "")
	if err != nil {
		t.Fatal(err)
	}
	cx, _ := json.Marshal(policyeditor.ContextOf(&policyeditor.Request{User: policyeditor.User{Groups: []string{"contractors"}}}, false))
	var ds []store.Decision
	for i := 0; i < 20000; i++ {
		ds = append(ds, store.Decision{At: time.Now().Add(-time.Hour + time.Duration(i)*time.Millisecond), Point: "launch",
			Subject: "c@acme.example", ClientID: "wiki", Context: cx, PolicyID: s.Policy.ID, PolicyVersion: 1, Rule: 1,
			Action: "permit", Reason: "r"})
	}
	if _, err := h.Store.InsertDecisions(ctx, ds); err != nil {
		t.Fatal(err)
	}
	// Version 2 without contractors, previewed from its page.
	d.Rules[0].Conditions[0].AnyOf = []string{"developers"}
	if _, err := svc.Save(ctx, store.Actor{Label: "t"}, s.Policy.ID, 0, d, ""); err != nil {
		t.Fatal(err)
	}
	r := root.Get("/admin/policies/" + s.Policy.ID + "/replay?version=2")
	box := doc(t, r.Body).Find("#replay-result[hx-get]")
	if r.StatusCode != http.StatusOK || box.Length() != 1 || doc(t, r.Body).Find("#replay-progress").Length() != 1 {
		t.Fatalf("no progress box: %d %s", r.StatusCode, r.Body)
	}
	poll := box.AttrOr("hx-get", "")
	if got := doc(t, ops.Get(poll).Body).Find("#replay-result").Text(); !strings.Contains(got, "no longer available") {
		t.Fatalf("another admin reads the job: %q", got)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		pd := doc(t, root.Get(poll).Body)
		if got := pd.Find("#replay-changed").Text(); got != "" {
			if got != "20000" || pd.Find("#replay-replayed").Text() != "20000" {
				t.Fatalf("result: %q changed of %q", got, pd.Find("#replay-replayed").Text())
			}
			break
		}
		if pd.Find("#replay-progress").Length() != 1 || time.Now().After(deadline) {
			t.Fatalf("poll: %s", pd.Text())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

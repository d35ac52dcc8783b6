package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestPolicyEditorNewConditionTypes adds a partnership, a connection and a
// client_type condition through the form, sees their inputs and inline
// errors, and saves them.
func TestPolicyEditorNewConditionTypes(t *testing.T) {
	w := newPolicyWorld(t)
	for typ, input := range map[string]string{
		"partnership": `input[name="r1.c1.ends_within"][value="30d"]`,
		"connection":  `textarea[name="r1.c1.values"]`,
		"client_type": `input[type="checkbox"][name="r1.c1.pick"][value="service"]`,
	} {
		f := ibmForm("add-cond:1")
		f.Set("r1.newtype", typ)
		d := doc(t, w.admin.Post("/admin/policies/new", f).Body)
		if d.Find(input).Length() != 1 {
			t.Errorf("added %s condition has no input %s", typ, input)
		}
	}

	f := ibmForm("save")
	f["r1.cond"] = []string{"0", "1", "2", "3"}
	f.Set("r1.c1.type", "partnership")
	f.Set("r1.c1.ends_within", "soon")
	f.Set("r1.c2.type", "connection")
	f.Set("r1.c2.values", "conn-okta")
	f.Set("r1.c3.type", "client_type")
	f["r1.c3.pick"] = []string{"web", "desktop"}
	r := w.admin.Post("/admin/policies/new", f)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad save: %d", r.StatusCode)
	}
	d := doc(t, r.Body)
	if got := d.Find("#cond-1-1 .field-error").Text(); !strings.Contains(got, `"soon" is not a number of days`) {
		t.Errorf("ends_within error: %q", got)
	}
	if got := d.Find("#cond-1-3 .field-error").Text(); !strings.Contains(got, `"desktop" is not a client type`) || strings.Contains(got, "line ") {
		t.Errorf("client_type error: %q", got)
	}

	f.Set("r1.c1.ends_within", "30d")
	f["r1.c3.pick"] = []string{"web", "spa"}
	if r := w.admin.Post("/admin/policies/new", f); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.StatusCode, r.Body)
	}
	ps, _ := w.h.Store.Policies(context.Background())
	if len(ps) != 1 {
		t.Fatalf("%d policies", len(ps))
	}
	d = doc(t, w.admin.Get("/admin/policies/"+ps[0].ID).Body)
	summary := d.Find("#policy-summary").Text()
	for _, want := range []string{"the partnership ends within 30d", "the user signed in through conn-okta", "the client type is web or spa"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q: %s", want, summary)
		}
	}
}

package policyeditor_test

import (
	"testing"

	"portico/policyeditor"
)

// TestRequestOfInvertsContextOf: every fact the log keeps comes back for a
// replay, the organization's attributes included (param_in_attribute
// reads them).
func TestRequestOfInvertsContextOf(t *testing.T) {
	req := policyeditor.Request{Org: "acme", OrgAttributes: map[string]string{"tier": "gold"}}
	c := policyeditor.ContextOf(&req, false)
	got := policyeditor.RequestOf(&c)
	if got.OrgAttributes["tier"] != "gold" {
		t.Fatalf("org attributes lost on replay: %v", got.OrgAttributes)
	}
}

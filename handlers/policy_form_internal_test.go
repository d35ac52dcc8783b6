package handlers

import (
	"net/url"
	"slices"
	"testing"
)

// A group list typed with commas is several groups: "developers,
// contractors" used to become one group of that name, which nobody is in,
// so the rule never matched.
func TestPolicyFormSplitsGroupListsOnCommas(t *testing.T) {
	f := url.Values{
		"name": {"p"}, "kind": {"user_access"}, "default": {"deny"},
		"rule": {"0"}, "r0.name": {"r"}, "r0.action": {"permit"},
		"r0.cond":    {"0", "1"},
		"r0.c0.type": {"group"}, "r0.c0.values": {"developers, contractors\nops,, "},
		"r0.c1.type": {"scope"}, "r0.c1.values": {"orders:read,orders:write"},
		"sim.groups": {"contractors, sales"},
	}
	pf := parsePolicyForm(f)
	conds := pf.Doc.Rules[0].Conditions
	if got := conds[0].AnyOf; !slices.Equal(got, []string{"developers", "contractors", "ops"}) {
		t.Errorf("groups = %q", got)
	}
	if got := conds[1].AnyOf; !slices.Equal(got, []string{"orders:read", "orders:write"}) {
		t.Errorf("scopes = %q", got)
	}
	if got := pf.Sim.Groups; !slices.Equal(got, []string{"contractors", "sales"}) {
		t.Errorf("simulated groups = %q", got)
	}
	// Shown again, the list reads as typed with commas and parses the same.
	props := editorProps(pf.Doc, nil, nil, nil)
	if v := props.Rules[0].Conditions[0].Values; v != "developers, contractors, ops" {
		t.Errorf("shown as %q", v)
	}
}

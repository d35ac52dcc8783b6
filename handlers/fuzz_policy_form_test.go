package handlers

import (
	"errors"
	"net/url"
	"testing"

	"portico/policyeditor"
)

// FuzzParsePolicyForm posts arbitrary forms (lists of rules, each with a
// list of conditions, in any order and number) to the policy editor's
// parser: no panic, and the document it reads compiles or is refused with
// field errors, never anything else.
func FuzzParsePolicyForm(f *testing.F) {
	for _, s := range []string{
		"name=P&kind=user_access&default=deny&rule=0&r0.name=a&r0.action=permit&r0.cond=0&r0.c0.type=group&r0.c0.in=contractors",
		"name=P&kind=user_access&default=challenge&rule=1&rule=0&r1.cond=0&r1.cond=1&r1.c0.type=ip&r1.c0.in=10.0.0.0%2F8&r1.c1.type=location&r1.c1.new=on&r1.action=deny",
		"name=P&kind=machine_to_machine&default=permit&mode=rego&rego=package+portico%0Adecision+%3A%3D+%7B%7D",
		"rule=999&rule=-1&rule=x&r999.cond=1000&default=maybe",
		"sim.groups=a,b&sim.locations=1.2.3.0/24%0A::/0&sim.time=2026-01-01T00:00&sim.mfa_age=5m",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		pf := parsePolicyForm(v)
		if pf.Doc.Rego != "" && len(pf.Doc.Rules) != 0 {
			t.Fatalf("rules read in Rego mode: %+v", pf.Doc)
		}
		if _, err := policyeditor.Compile(pf.Doc); err != nil {
			var fe policyeditor.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("compile error is not field errors: %v", err)
			}
		}
	})
}

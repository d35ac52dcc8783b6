package handlers

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"portico/policyeditor"
	"portico/views"
)

// policyForm is the editor's draft as it travels in the form: the document
// being built, the sample request of the simulator and the operation asked.
// The draft is never stored until "save" compiles it.
type policyForm struct {
	Base int
	Doc  policyeditor.Document
	Sim  policyeditor.SimInput
	// SimRaw keeps the sample as typed, to show it again.
	SimRaw views.SimProps
	Op     string
	// Note is the note for the version a save makes.
	Note string
	// parseErrs are problems the form itself has (an unknown action), by
	// document path, merged with Compile's.
	parseErrs policyeditor.FieldErrors
}

// parsePolicyForm reads the draft. Rules come in the order of the "rule"
// fields and conditions in the order of each rule's "cond" fields, which is
// the page's order: a drag-and-drop reorder only moves elements, and the
// next post carries the new order.
func parsePolicyForm(f url.Values) policyForm {
	pf := policyForm{Op: f.Get("op"), Note: strings.TrimSpace(f.Get("note"))}
	if len(pf.Note) > 500 {
		pf.Note = pf.Note[:500]
	}
	pf.Base, _ = strconv.Atoi(f.Get("base"))
	pf.Doc = policyeditor.Document{
		Name:        strings.TrimSpace(f.Get("name")),
		Description: strings.TrimSpace(f.Get("description")),
		Kind:        policyeditor.Kind(f.Get("kind")),
		Rules:       []policyeditor.Rule{},
	}
	pf.Doc.Default = pf.action(f.Get("default"), "default")
	// Rego mode: the module replaces the rules (which stay on the page but
	// are not part of the document).
	if rg := strings.TrimSpace(f.Get("rego")); rg != "" && f.Get("mode") == "rego" {
		pf.Doc.Rego = f.Get("rego")
	}
	for i, rk := range f["rule"] {
		if pf.Doc.Rego != "" {
			break
		}
		if !isKey(rk) {
			continue
		}
		p := "r" + rk + "."
		r := policyeditor.Rule{Name: strings.TrimSpace(f.Get(p + "name")), Conditions: []policyeditor.Condition{}}
		r.Action = pf.action(f.Get(p+"action"), fmt.Sprintf("rules[%d].action", i))
		for _, ck := range f[p+"cond"] {
			if isKey(ck) {
				r.Conditions = append(r.Conditions, parseCondition(f, p+"c"+ck+"."))
			}
		}
		pf.Doc.Rules = append(pf.Doc.Rules, r)
	}
	s := &pf.SimRaw
	s.Groups, s.IP, s.Country, s.Time, s.TZ = f.Get("sim.groups"), f.Get("sim.ip"), f.Get("sim.country"), f.Get("sim.time"), f.Get("sim.tz")
	s.MFAAge, s.Locations, s.Org, s.Plan = f.Get("sim.mfa_age"), f.Get("sim.locations"), f.Get("sim.org"), f.Get("sim.plan")
	s.Client, s.Scopes, s.Attributes = f.Get("sim.client"), f.Get("sim.scopes"), f.Get("sim.attributes")
	s.Method, s.Path, s.Host, s.OrgAttributes = f.Get("sim.method"), f.Get("sim.path"), f.Get("sim.host"), f.Get("sim.org_attributes")
	pf.Sim = policyeditor.SimInput{Groups: nameList(s.Groups), IP: s.IP, Country: strings.ToUpper(strings.TrimSpace(s.Country)),
		Time: s.Time, TZ: s.TZ, MFAAge: s.MFAAge, Locations: lines(s.Locations), Org: s.Org, Plan: s.Plan,
		ClientID: s.Client, Scopes: lines(s.Scopes), Attributes: lines(s.Attributes), OrgAttributes: lines(s.OrgAttributes),
		Method: s.Method, Path: s.Path, Host: s.Host}
	return pf
}

// isKey accepts the small integers the page names rules and conditions by.
func isKey(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n < 1000
}

func (pf *policyForm) action(s, path string) policyeditor.Action {
	a, err := policyeditor.ParseAction(s)
	if err != nil {
		pf.parseErrs = append(pf.parseErrs, policyeditor.FieldError{Path: path, Message: "choose permit, deny or challenge"})
	}
	return a
}

// parseCondition reads one condition, filling only the fields its type has,
// so Compile never sees a stray field from a hidden input.
func parseCondition(f url.Values, p string) policyeditor.Condition {
	c := policyeditor.Condition{Type: f.Get(p + "type"), Negate: f.Get(p+"negate") == "1"}
	values := lines(f.Get(p + "values"))
	switch c.Type {
	case policyeditor.CondGroup, policyeditor.CondScope:
		// Group and scope names hold no commas, so "developers,
		// contractors" is two groups, not one that matches nobody.
		c.AnyOf = nameList(f.Get(p + "values"))
	case policyeditor.CondIP, policyeditor.CondClient, policyeditor.CondConnection, policyeditor.CondIssuer:
		c.In = values
	case policyeditor.CondAttribute:
		c.Name, c.In = strings.TrimSpace(f.Get(p+"attr")), values
	case policyeditor.CondCountry, policyeditor.CondOrg, policyeditor.CondPlan, policyeditor.CondClientType:
		c.In = append([]string{}, f[p+"pick"]...)
	case policyeditor.CondPartnership:
		c.EndsWithin = strings.TrimSpace(f.Get(p + "ends_within"))
	case policyeditor.CondLocation:
		c.New = true
	case policyeditor.CondTime:
		if d := f[p+"days"]; len(d) > 0 {
			c.Days = d
		}
		c.From, c.To, c.TZ = strings.TrimSpace(f.Get(p+"from")), strings.TrimSpace(f.Get(p+"to")), strings.TrimSpace(f.Get(p+"tz"))
	case policyeditor.CondMFA, policyeditor.CondTokenAge:
		c.Within = strings.TrimSpace(f.Get(p + "within"))
	case policyeditor.CondAuthMethod:
		c.AnyOf = append([]string{}, f[p+"pick"]...)
		c.Within = strings.TrimSpace(f.Get(p + "within"))
	case policyeditor.CondMethod, policyeditor.CondPath, policyeditor.CondHost, policyeditor.CondAPI:
		c.In = values
	case policyeditor.CondFeature:
		c.AnyOf = values
	case policyeditor.CondParamInAttribute:
		key := strings.TrimSpace(f.Get(p + "key"))
		switch f.Get(p + "source") {
		case "header":
			c.Header = key
		case "query":
			c.Query = key
		default:
			c.Param = key
		}
		c.Attribute = strings.TrimSpace(f.Get(p + "attr"))
		if of := f.Get(p + "of"); of != "" && of != "user" {
			c.Of = of // anything but "org" is refused by the compiler
		}
	}
	return c
}

// nameList splits a list of names typed with commas, new lines or both
// into trimmed, non-blank names; empty input is an empty list.
func nameList(s string) []string {
	out := []string{}
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// lines splits a textarea into trimmed, non-blank lines; an empty textarea
// is an empty (not absent) list, so Compile says "list at least one value".
func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// newCondition is a fresh condition of typ with sensible starting values.
func newCondition(typ string) policyeditor.Condition {
	c := policyeditor.Condition{Type: typ}
	switch typ {
	case policyeditor.CondLocation:
		c.New = true
	case policyeditor.CondTime:
		c.Days, c.From, c.To, c.TZ = []string{"mon", "tue", "wed", "thu", "fri"}, "08:00", "18:00", "UTC"
	case policyeditor.CondMFA:
		c.Within = "15m"
	case policyeditor.CondAuthMethod:
		c.AnyOf, c.Within, c.Negate = []string{"hwk", "swk"}, "15m", true
	case policyeditor.CondPartnership:
		c.EndsWithin = "30d"
	case policyeditor.CondTokenAge:
		c.Within = "1h"
	}
	return c
}

var opPattern = regexp.MustCompile(`^(add-rule|del-rule|up|down|add-cond|del-cond)(?::(\d{1,3}))?(?::(\d{1,3}))?$`)

// applyOp performs an editing operation on the draft and reports whether op
// was one; newType is the type chosen for "add-cond".
func (pf *policyForm) applyOp(f url.Values) bool {
	m := opPattern.FindStringSubmatch(pf.Op)
	if m == nil {
		return false
	}
	rules := pf.Doc.Rules
	i, _ := strconv.Atoi(m[2])
	j, _ := strconv.Atoi(m[3])
	// Ops name rules by their key, which is their position when the page was
	// drawn; find where that rule is now.
	pos := -1
	for n, rk := range validKeys(f["rule"]) {
		if rk == m[2] {
			pos = n
		}
	}
	switch m[1] {
	case "add-rule":
		// A new rule starts with the condition type chosen beside the
		// button; an unknown or missing choice starts with a group.
		typ := f.Get("newrule.type")
		if !slices.Contains(policyeditor.ConditionTypes(), typ) {
			typ = policyeditor.CondGroup
		}
		pf.Doc.Rules = append(rules, policyeditor.Rule{Action: policyeditor.Permit,
			Conditions: []policyeditor.Condition{newCondition(typ)}})
		return true
	}
	if pos < 0 || pos >= len(rules) {
		return true // a stale button: nothing to do
	}
	switch m[1] {
	case "del-rule":
		pf.Doc.Rules = append(rules[:pos:pos], rules[pos+1:]...)
	case "up":
		if pos > 0 {
			rules[pos-1], rules[pos] = rules[pos], rules[pos-1]
		}
	case "down":
		if pos < len(rules)-1 {
			rules[pos+1], rules[pos] = rules[pos], rules[pos+1]
		}
	case "add-cond":
		typ := f.Get("r" + strconv.Itoa(i) + ".newtype")
		rules[pos].Conditions = append(rules[pos].Conditions, newCondition(typ))
	case "del-cond":
		cpos := -1
		for n, ck := range validKeys(f["r"+strconv.Itoa(i)+".cond"]) {
			if ck == strconv.Itoa(j) {
				cpos = n
			}
		}
		if cs := rules[pos].Conditions; cpos >= 0 && cpos < len(cs) {
			rules[pos].Conditions = append(cs[:cpos:cpos], cs[cpos+1:]...)
		}
	}
	return true
}

func validKeys(keys []string) []string {
	var out []string
	for _, k := range keys {
		if isKey(k) {
			out = append(out, k)
		}
	}
	return out
}

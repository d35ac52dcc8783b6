package handlers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"portico/policyeditor"
	"portico/views"
)

// condTypeLabels name the condition types in the editor.
var condTypeLabels = map[string]string{
	policyeditor.CondGroup:     "User is in a group",
	policyeditor.CondIP:        "Source IP address",
	policyeditor.CondCountry:   "Country",
	policyeditor.CondLocation:  "Location is new",
	policyeditor.CondTime:      "Time window",
	policyeditor.CondOrg:       "Organization",
	policyeditor.CondPlan:      "Plan",
	policyeditor.CondMFA:       "MFA done recently",
	policyeditor.CondAttribute: "Attribute or claim",
	policyeditor.CondClient:    "Client application",
	policyeditor.CondScope:     "Requested scopes",

	policyeditor.CondPartnership: "Partnership ends soon",
	policyeditor.CondConnection:  "Signed in through a connection",
	policyeditor.CondClientType:  "Client type",
	policyeditor.CondAuthMethod:  "Authentication method (passkey…)",
	policyeditor.CondIssuer:      "Trusted token issuer",

	policyeditor.CondMethod:            "API call: method",
	policyeditor.CondPath:              "API call: path pattern",
	policyeditor.CondHost:              "API call: host",
	policyeditor.CondAPI:               "API call: registered API",
	policyeditor.CondParamInAttribute:  "API call: value is in a user or organization attribute",
	policyeditor.CondFeature:           "Plan has a feature",
	policyeditor.CondTokenAge:          "Token issued recently",
	policyeditor.CondSenderConstrained: "Token is sender-constrained",
}

// commonZones seed the time-zone inputs' suggestions; any IANA zone is accepted.
var commonZones = []string{"UTC", "Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York",
	"America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata", "Asia/Singapore",
	"Australia/Sydney"}

func actionOptions(selected policyeditor.Action, kind policyeditor.Kind) []views.Option {
	var out []views.Option
	for _, a := range []policyeditor.Action{policyeditor.Permit, policyeditor.Deny, policyeditor.Challenge} {
		if a == policyeditor.Challenge && kind == policyeditor.KindMachineToMachine && selected != a {
			continue // a machine cannot step up
		}
		label := map[policyeditor.Action]string{policyeditor.Permit: "Permit", policyeditor.Deny: "Deny",
			policyeditor.Challenge: "Challenge (step-up MFA)"}[a]
		out = append(out, views.Option{Value: a.String(), Label: label, Selected: a == selected})
	}
	return out
}

// pathRE splits a FieldError path into rule, condition, field and item.
var pathRE = regexp.MustCompile(`^rules\[(\d+)\](?:\.(conditions)(?:\[(\d+)\](?:\.([a-z_]+)(?:\[(\d+)\])?)?)?|\.([a-z_]+))?$`)

// placedErrors sorts FieldErrors to the inputs that caused them.
type placedErrors struct {
	top   map[string][]string
	rules map[int][]string
	conds map[[2]int]map[string][]string
	all   []string
}

// placeErrors maps document paths such as rules[0].conditions[1].in[2] to
// the editor's inputs: list items become "line N" of their textarea, and the
// fields of a condition its own inputs.
func placeErrors(errs policyeditor.FieldErrors, doc policyeditor.Document) placedErrors {
	pe := placedErrors{top: map[string][]string{}, rules: map[int][]string{}, conds: map[[2]int]map[string][]string{}}
	for _, e := range errs {
		pe.all = append(pe.all, e.Error())
		m := pathRE.FindStringSubmatch(e.Path)
		if m == nil {
			pe.top[e.Path] = append(pe.top[e.Path], e.Message)
			continue
		}
		ri, _ := strconv.Atoi(m[1])
		if m[2] == "" || m[3] == "" {
			what := m[6]
			if m[2] != "" {
				what = "conditions"
			}
			msg := e.Message
			if what == "conditions" {
				msg = "Conditions: " + msg
			}
			pe.rules[ri] = append(pe.rules[ri], msg)
			continue
		}
		ci, _ := strconv.Atoi(m[3])
		key := [2]int{ri, ci}
		if pe.conds[key] == nil {
			pe.conds[key] = map[string][]string{}
		}
		field, msg := m[4], e.Message
		switch field {
		case "in", "any_of":
			field = "values"
			if m[5] != "" && listedOnLines(doc, ri, ci) {
				n, _ := strconv.Atoi(m[5])
				msg = fmt.Sprintf("line %d: %s", n+1, msg)
			}
		case "name", "attribute":
			field = "attr"
		case "param", "header", "query":
			field = "key"
		case "days":
			if m[5] != "" {
				msg = "days: " + msg
			}
		}
		pe.conds[key][field] = append(pe.conds[key][field], msg)
	}
	return pe
}

// listedOnLines reports whether a condition's list is a one-per-line
// textarea (rather than a picker, where a line number means nothing).
func listedOnLines(doc policyeditor.Document, ri, ci int) bool {
	if ri >= len(doc.Rules) || ci >= len(doc.Rules[ri].Conditions) {
		return false
	}
	switch doc.Rules[ri].Conditions[ci].Type {
	case policyeditor.CondCountry, policyeditor.CondOrg, policyeditor.CondPlan, policyeditor.CondClientType, policyeditor.CondAuthMethod:
		return false
	}
	return true
}

// editorProps builds the editor's view of a draft, its errors and, when
// sim is set, the simulation marked on the rules.
func editorProps(doc policyeditor.Document, errs policyeditor.FieldErrors, sim *views.SimResult, trace *policyeditor.Trace) views.PolicyEditorProps {
	pe := placeErrors(errs, doc)
	e := views.PolicyEditorProps{Name: doc.Name, Description: doc.Description, Errors: pe.top, Problems: pe.all}
	e.Rego, e.RegoMode = doc.Rego, doc.Rego != ""
	for _, k := range []policyeditor.Kind{policyeditor.KindUserAccess, policyeditor.KindMachineToMachine, policyeditor.KindClientRegistration, policyeditor.KindAPIRequest} {
		label := map[policyeditor.Kind]string{policyeditor.KindUserAccess: "User access",
			policyeditor.KindMachineToMachine: "Machine to machine", policyeditor.KindClientRegistration: "Client registration",
			policyeditor.KindAPIRequest: "API request"}[k]
		e.Kinds = append(e.Kinds, views.Option{Value: string(k), Label: label, Selected: k == doc.Kind})
	}
	e.Defaults = actionOptions(doc.Default, doc.Kind)
	for _, t := range policyeditor.ConditionTypes() {
		e.CondTypes = append(e.CondTypes, views.Option{Value: t, Label: condTypeLabels[t]})
	}
	decidedRule := -1
	failures := map[int]policyeditor.RuleTrace{}
	if trace != nil {
		decidedRule = trace.Decision.Rule
		for _, rt := range trace.Rules {
			failures[rt.Rule] = rt
		}
	}
	for i, r := range doc.Rules {
		rp := views.RuleProps{Index: i, Name: r.Name, Actions: actionOptions(r.Action, doc.Kind), Errors: pe.rules[i],
			First: i == 0, Last: i == len(doc.Rules)-1, Decided: decidedRule == i+1}
		if rt, ok := failures[i+1]; ok {
			rp.Tried = true
			if !rt.Matched {
				rp.Failed = fmt.Sprintf("Condition %d (%s) does not hold: %s.", rt.Failed, rt.Condition, rt.Why)
			}
		}
		for j, c := range r.Conditions {
			cp := views.CondProps{Index: j, Type: c.Type, TypeLabel: condTypeLabels[c.Type], Negate: c.Negate,
				Days: c.Days, From: c.From, To: c.To, TZ: c.TZ, Within: c.Within, EndsWithin: c.EndsWithin, Attr: c.Name, Errors: pe.conds[[2]int{i, j}]}
			if cp.TypeLabel == "" {
				cp.TypeLabel = c.Type
			}
			list := c.In
			if c.Type == policyeditor.CondGroup || c.Type == policyeditor.CondScope || c.Type == policyeditor.CondAuthMethod || c.Type == policyeditor.CondFeature {
				list = c.AnyOf
			}
			if c.Type == policyeditor.CondParamInAttribute {
				cp.Attr, cp.Source, cp.Key, cp.Of = c.Attribute, "param", c.Param, c.Of
				if c.Header != "" {
					cp.Source, cp.Key = "header", c.Header
				} else if c.Query != "" {
					cp.Source, cp.Key = "query", c.Query
				}
			}
			switch c.Type {
			case policyeditor.CondCountry, policyeditor.CondOrg, policyeditor.CondPlan, policyeditor.CondClientType, policyeditor.CondAuthMethod:
				cp.Picks = list
			case policyeditor.CondGroup:
				cp.Values = strings.Join(list, ", ")
			default:
				cp.Values = strings.Join(list, "\n")
			}
			if rt, ok := failures[i+1]; ok && rt.Failed == j+1 {
				cp.Failed = true
			}
			rp.Conditions = append(rp.Conditions, cp)
		}
		e.Rules = append(e.Rules, rp)
	}
	for _, s := range policyeditor.Describe(doc) {
		e.Summary = append(e.Summary, views.SummaryLine{Rule: s.Rule, Text: s.String(),
			Decided: trace != nil && s.Rule == decidedRule && (s.Rule > 0 || trace.Decision.Rule == 0)})
	}
	e.Sim.Result = sim
	e.Attribution = policyeditor.IP2LocationAttributionHTML
	return e
}

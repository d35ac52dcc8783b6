package policyeditor

import (
	"fmt"
	"strings"
)

// Sentence is one line of a policy read aloud: "If the location is new →
// Challenge." Rule is the 1-based rule, 0 for the default line.
type Sentence struct {
	Rule   int
	Lead   string // "If", "Else if" or "Otherwise"
	When   string // the conditions in words; empty for the default
	Action string // "Permit", "Deny" or "Challenge"
}

// String joins the parts: "Else if the user is in contractors or developers → Permit."
func (s Sentence) String() string {
	if s.When == "" {
		return s.Lead + " → " + s.Action + "."
	}
	return s.Lead + " " + s.When + " → " + s.Action + "."
}

// Describe reads a document as an if / else-if chain, for the editor's
// summary. It works on drafts that do not compile: what is missing reads as
// "…".
func Describe(doc Document) []Sentence {
	out := make([]Sentence, 0, len(doc.Rules)+1)
	for i, r := range doc.Rules {
		lead := "If"
		if i > 0 {
			lead = "Else if"
		}
		parts := make([]string, 0, len(r.Conditions))
		for _, c := range r.Conditions {
			parts = append(parts, DescribeCondition(c))
		}
		when := strings.Join(parts, " and ")
		if when == "" {
			when = "(no conditions yet)"
		}
		out = append(out, Sentence{Rule: i + 1, Lead: lead, When: when, Action: title(r.Action)})
	}
	lead := "Otherwise"
	if len(doc.Rules) == 0 {
		lead = "Always"
	}
	return append(out, Sentence{Lead: lead, Action: title(doc.Default)})
}

func title(a Action) string {
	s := a.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// DescribeCondition says one condition in words: "the user is in
// contractors or developers", "the location is new".
func DescribeCondition(c Condition) string {
	is, in := "is", "is in"
	if c.Negate {
		is, in = "is not", "is not in"
	}
	switch c.Type {
	case CondGroup:
		if c.Negate {
			return "the user is in none of " + orList(c.AnyOf)
		}
		return "the user is in " + orList(c.AnyOf)
	case CondScope:
		verb := "include"
		if c.Negate {
			verb = "do not include"
		}
		return "the requested scopes " + verb + " " + orList(c.AnyOf)
	case CondIP:
		return "the source IP " + in + " " + orList(c.In)
	case CondCountry:
		return "the country " + is + " " + orList(c.In)
	case CondLocation:
		if c.Negate {
			return "the location is remembered"
		}
		return "the location is new"
	case CondTime:
		return "it " + is + " " + sayWindow(c)
	case CondOrg:
		return "the organization " + is + " " + orList(c.In)
	case CondPlan:
		return "the plan " + is + " " + orList(c.In)
	case CondMFA:
		if c.Negate {
			return "MFA was not done within " + orDots(c.Within)
		}
		return "MFA was done within " + orDots(c.Within)
	case CondAuthMethod:
		within := ""
		if c.Within != "" {
			within = " within " + c.Within
		}
		if c.Negate {
			return "the user has not authenticated with " + orList(c.AnyOf) + within
		}
		return "the user authenticated with " + orList(c.AnyOf) + within
	case CondAttribute:
		return fmt.Sprintf("attribute %s %s %s", orDots(c.Name), is, orList(c.In))
	case CondClient:
		return "the client " + is + " " + orList(c.In)
	case CondClientType:
		return "the client type " + is + " " + orList(c.In)
	case CondIssuer:
		return "the subject's token issuer " + is + " " + orList(c.In)
	case CondConnection:
		if c.Negate {
			return "the user did not sign in through " + orList(c.In)
		}
		return "the user signed in through " + orList(c.In)
	case CondPartnership:
		if c.Negate {
			return "the partnership does not end within " + orDots(c.EndsWithin)
		}
		return "the partnership ends within " + orDots(c.EndsWithin)
	}
	if s := condSpecs[c.Type]; s != nil && s.say != nil {
		return s.say(c)
	}
	return fmt.Sprintf("(unknown condition %q)", c.Type)
}

// orList writes "a", "a or b", "a, b or c"; an empty list is "…".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return "…"
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func orDots(s string) string {
	if strings.TrimSpace(s) == "" {
		return "…"
	}
	return s
}

// sayWindow writes a time window as "mon, tue 08:00–18:00 in Europe/Berlin".
func sayWindow(c Condition) string {
	var parts []string
	if len(c.Days) > 0 {
		parts = append(parts, strings.Join(c.Days, ", "))
	}
	if c.From != "" || c.To != "" {
		parts = append(parts, orDots(c.From)+"–"+orDots(c.To))
	}
	if len(parts) == 0 {
		parts = append(parts, "…")
	}
	return strings.Join(parts, " ") + " in " + orDots(c.TZ)
}

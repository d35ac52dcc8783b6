package policyeditor

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Trace is a decision with its working, for the editor's simulator: every rule
// tried up to the deciding one, and for each rule that did not match, the first
// condition that failed and why.
type Trace struct {
	Decision Decision
	// StepUp is true for a trace of AfterStepUp.
	StepUp bool
	// Rules are the rules tried, in order; the last one matched unless the default
	// decided.
	Rules []RuleTrace
}

// RuleTrace is one rule's part in a Trace.
type RuleTrace struct {
	// Rule is the 1-based index of the rule.
	Rule int
	// Name is the rule's name, possibly empty.
	Name string
	// Matched is true when every condition held; then the rule decided.
	Matched bool
	// Failed is the 1-based index of the first condition that did not hold, 0 when
	// the rule matched. Later conditions were not looked at.
	Failed int
	// Path is the failing condition's field path ("rules[1].conditions[0]"), so
	// the editor can highlight it.
	Path string
	// Condition describes the failing condition ("location is new").
	Condition string
	// Why says why it failed for this request.
	Why string
}

// Explain evaluates req like Evaluate and reports how the decision came about.
// It allocates; use Evaluate on the request path.
func (p *Policy) Explain(req *Request) Trace { return p.explain(req, false) }

// ExplainAfterStepUp is Explain for the re-evaluation AfterStepUp performs.
func (p *Policy) ExplainAfterStepUp(req *Request) Trace { return p.explain(req, true) }

func (p *Policy) explain(req *Request, stepUp bool) Trace {
	t := Trace{Decision: p.decide(req, stepUp), StepUp: stepUp}
	for i := range p.rules {
		r := &p.rules[i]
		rt := RuleTrace{Rule: i + 1, Name: r.name}
		j := r.firstFailure(req, stepUp)
		if j < 0 {
			rt.Matched = true
			t.Rules = append(t.Rules, rt)
			break
		}
		c := &r.conds[j]
		rt.Failed = j + 1
		rt.Path = fmt.Sprintf("rules[%d].conditions[%d]", i, j)
		rt.Condition = c.text
		rt.Why = c.why(req, stepUp)
		t.Rules = append(t.Rules, rt)
	}
	return t
}

// why explains a failed condition with the request's own values.
func (c *condition) why(req *Request, stepUp bool) string {
	holds, known := c.test(req, stepUp)
	if !known {
		return c.missing + ", so it does not hold"
	}
	var got string
	if s := specOf(c.kind); s != nil && s.got != nil {
		got = s.got(c, req)
	}
	switch c.kind {
	case kGroup:
		got = "the user's groups are " + quoteList(req.User.Groups)
	case kScope:
		got = "the requested scopes are " + quoteList(req.Client.Scopes)
	case kOrg:
		got = fmt.Sprintf("the organization is %q", req.Org)
	case kPlan:
		got = fmt.Sprintf("the plan is %q", req.Plan)
	case kClient:
		got = fmt.Sprintf("the client is %q", req.Client.ID)
	case kAttribute:
		got = fmt.Sprintf("%s is %q", c.attr, req.Attributes[c.attr])
	case kConnection:
		got = fmt.Sprintf("the user signed in through connection %q", req.User.ConnectionID)
	case kClientType:
		got = fmt.Sprintf("the client type is %q", req.Client.Type)
	case kIssuer:
		got = fmt.Sprintf("the issuer is %q", req.Issuer)
	case kPartnership:
		got = "the partnership ends " + req.ValidUntil.UTC().Format(time.RFC3339) +
			", in " + req.ValidUntil.Sub(req.Now).Round(time.Hour).String()
	case kIP:
		got = "the source IP is " + req.IP.String()
	case kCountry:
		got = fmt.Sprintf("the country is %q", req.Country)
	case kLocation:
		loc := LocationOf(req.IP)
		switch {
		case stepUp:
			got = loc.String() + " is remembered by step-up"
		case holds:
			got = loc.String() + " is not among the remembered locations"
		default:
			got = loc.String() + " is a remembered location"
		}
	case kTime:
		local := req.Now.In(c.window.loc)
		got = "it is " + local.Format("Mon 15:04 MST")
	case kAuthMethod:
		got = "the session used " + describeMethods(req)
	case kMFA:
		at := req.User.MFAAt
		if stepUp {
			at = req.Now
		}
		got = "MFA was done " + req.Now.Sub(at).String() + " ago"
	}
	if holds {
		return got + ", and the condition is negated"
	}
	return got
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// describeMethods lists the session's methods with their age.
func describeMethods(req *Request) string {
	if len(req.User.AuthMethods) == 0 {
		return "no recorded method"
	}
	names := make([]string, 0, len(req.User.AuthMethods))
	for m := range req.User.AuthMethods {
		names = append(names, m)
	}
	slices.Sort(names)
	for i, m := range names {
		names[i] = fmt.Sprintf("%s (%s ago)", m, req.Now.Sub(req.User.AuthMethods[m]).Round(time.Second))
	}
	return strings.Join(names, ", ")
}

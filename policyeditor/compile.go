package policyeditor

import (
	"fmt"
	"strings"
	"time"
)

// Policy is a compiled, immutable Document, safe for concurrent use. Evaluate and
// AfterStepUp decide without allocating; Explain shows the work.
type Policy struct {
	name          string
	kind          Kind
	rules         []rule
	def           Action
	defaultReason string
	defaultStepUp string
	rego          *regoPolicy // nil for a rules policy
}

type rule struct {
	name      string
	conds     []condition
	action    Action
	reason    string // when this rule decides
	stepUpMet string // when this rule challenges again right after step-up
	// stepUpWith are the methods a step-up must use to meet this rule's
	// Challenge (from its negated auth_method conditions); empty means any.
	stepUpWith string
	descriptor string // "rule 2 (Developers and contractors)"
}

// condKind selects the test in condition.eval; a switch over a small struct keeps
// the request on the stack, where an interface call would make it escape.
type condKind uint8

const (
	kGroup condKind = iota
	kIP
	kCountry
	kLocation
	kTime
	kOrg
	kPlan
	kMFA
	kAttribute
	kClient
	kScope
	kPartnership
	kConnection
	kClientType
	kAuthMethod
	kIssuer
	// Registered types (cond_*.go); their tests are functions in those files.
	kMethod
	kPath
	kHost
	kAPI
	kFeature
	kTokenAge
	kSenderConstrained
	kParamInAttribute
)

type condition struct {
	kind      condKind
	negate    bool
	names     stringSet
	attr      string
	ips       prefixSet
	countries countrySet
	window    timeWindow
	within    time.Duration // mfa: how recent; partnership: how soon it ends
	text      string        // "user is in any of contractors, developers"
	missing   string        // what the request lacks when this cannot be decided
	patterns  []pathPattern // path; param_in_attribute: those naming its parameter
	from      uint8         // param_in_attribute: fromParam, fromHeader or fromQuery
	key       string        // param_in_attribute: the parameter, header or query name
	ofOrg     bool          // param_in_attribute: the organization's attribute, not the user's
}

// Name is the document's name.
func (p *Policy) Name() string { return p.name }

// Kind is the document's kind, so a caller can refuse a policy attached where it
// does not belong.
func (p *Policy) Kind() Kind { return p.kind }

// Default is the action taken when no rule matches.
func (p *Policy) Default() Action { return p.def }

// Compile checks a document and prepares it for evaluation. An invalid document is
// refused whole: the error is a FieldErrors listing every problem with its path.
func Compile(doc Document) (*Policy, error) {
	var pr problems
	if strings.TrimSpace(doc.Name) == "" {
		pr.add("name", "required")
	}
	if doc.Kind == "" {
		pr.add("kind", "required")
	} else if !doc.Kind.Valid() {
		pr.add("kind", fmt.Sprintf("%q is not a kind (user_access, machine_to_machine, client_registration or api_request)", string(doc.Kind)))
	}
	checkAction(&pr, "default", doc.Default, doc.Kind)
	pol := &Policy{name: doc.Name, kind: doc.Kind, def: doc.Default}
	if doc.Rego != "" {
		if len(doc.Rules) > 0 {
			pr.add("rules", "a Rego policy has no rules: the module decides")
		}
		pol.rego = compileRego(&pr, doc.Rego, doc.Default)
	}
	for i, r := range doc.Rules {
		pol.rules = append(pol.rules, compileRule(&pr, fmt.Sprintf("rules[%d]", i), i, r, doc.Kind))
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	pol.defaultReason = "no rule matched → default " + pol.def.String()
	pol.defaultStepUp = pol.defaultReason + ", already met by step-up → permit"
	return pol, nil
}

func checkAction(pr *problems, path string, a Action, k Kind) {
	switch {
	case a > Challenge:
		pr.add(path, fmt.Sprintf("%d is not an action", uint8(a)))
	case a == Challenge && k == KindMachineToMachine:
		pr.add(path, "a machine client cannot pass step-up MFA; use permit or deny")
	}
}

func compileRule(pr *problems, path string, i int, r Rule, k Kind) rule {
	out := rule{name: r.Name, action: r.Action}
	checkAction(pr, path+".action", r.Action, k)
	if len(r.Conditions) == 0 {
		pr.add(path+".conditions", "a rule needs at least one condition; use default for what applies to everyone")
	}
	texts := make([]string, 0, len(r.Conditions))
	for j, c := range r.Conditions {
		cc := compileCondition(pr, fmt.Sprintf("%s.conditions[%d]", path, j), c, k)
		out.conds = append(out.conds, cc)
		texts = append(texts, cc.text)
		if cc.kind == kAuthMethod && cc.negate {
			out.stepUpWith = strings.TrimSpace(out.stepUpWith + " " + strings.Join(c.AnyOf, " "))
		}
	}
	for j, c := range r.Conditions {
		if s := condSpecs[c.Type]; s != nil && s.link != nil {
			s.link(&condCompiler{pr: pr, path: fmt.Sprintf("%s.conditions[%d]", path, j)}, c, &out.conds[j], out.conds)
		}
	}
	out.descriptor = fmt.Sprintf("rule %d", i+1)
	if r.Name != "" {
		out.descriptor += fmt.Sprintf(" (%s)", r.Name)
	}
	when := strings.Join(texts, " and ")
	out.reason = fmt.Sprintf("%s: %s → %s", out.descriptor, when, r.Action)
	out.stepUpMet = fmt.Sprintf("%s: %s → challenge, already met by step-up → permit", out.descriptor, when)
	return out
}

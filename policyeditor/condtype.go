package policyeditor

import (
	"fmt"
	"slices"
	"strings"
)

// condSpec is a condition type added in one place (STYLE.md habit 16): its
// JSON fields, the kinds it makes sense in, and how it compiles. Each lives
// in its own cond_*.go file and registers itself in condSpecs; only the
// evaluation stays a case in condition.test, because the hot loop's switch
// keeps the request on the stack (Evaluate must not allocate).
//
// The older types (group, ip, country…) predate the registry and still go
// through the switches in document.go and compile_condition.go.
type condSpec struct {
	typ    string
	fields []string
	// kinds lists where the type may appear; nil means every kind.
	kinds []Kind
	// compile fills out (kind, missing and the type's data) and returns the
	// condition's text when it holds and when negated.
	compile func(cc *condCompiler, c Condition, out *condition) (pos, neg string)
	// link runs once the whole rule is compiled, for types that refer to
	// another condition of the rule (param_in_attribute names a path
	// parameter); nil for most.
	link func(cc *condCompiler, c Condition, out *condition, rule []condition)
	// say describes the condition in words for the editor (DescribeCondition).
	say func(c Condition) string
	// got says what the request had, for the simulator's explanation.
	got func(c *condition, req *Request) string
}

// condCompiler is what a condSpec's compile reports problems to.
type condCompiler struct {
	pr   *problems
	path string
}

func (cc *condCompiler) add(field, msg string) {
	p := cc.path
	if field != "" {
		p += "." + field
	}
	cc.pr.add(p, msg)
}

// condSpecs is a fixed table filled by the cond_*.go files' initializers:
// a process-wide registry of code, never of tenant data.
var (
	condSpecs     = map[string]*condSpec{}
	condSpecOrder []string
)

func registerCond(s *condSpec) *condSpec {
	if _, dup := condSpecs[s.typ]; dup {
		panic("policyeditor: condition type registered twice: " + s.typ)
	}
	condSpecs[s.typ] = s
	condSpecOrder = append(condSpecOrder, s.typ)
	return s
}

// allowedIn reports whether the type may appear in a policy of kind k.
func (s *condSpec) allowedIn(k Kind) bool { return s.kinds == nil || slices.Contains(s.kinds, k) }

// compileRegistered compiles a registered condition type.
func compileRegistered(pr *problems, path string, s *condSpec, c Condition, k Kind, out *condition) (pos, neg string) {
	if k != "" && k.Valid() && !s.allowedIn(k) {
		names := make([]string, len(s.kinds))
		for i, kk := range s.kinds {
			names[i] = string(kk)
		}
		pr.add(path+".type", fmt.Sprintf("%s only means something in %s policies", article(s.typ)+" condition", strings.Join(names, " or ")))
	}
	return s.compile(&condCompiler{pr: pr, path: path}, c, out)
}

// apiOnly is the kinds list of conditions about an HTTP request or its token.
var apiOnly = []Kind{KindAPIRequest}

// specKinds maps the evaluation kinds of registered types back to their
// spec, for explanations.
var specKinds = map[condKind]string{
	kMethod: CondMethod, kPath: CondPath, kHost: CondHost, kAPI: CondAPI, kFeature: CondFeature,
	kTokenAge: CondTokenAge, kSenderConstrained: CondSenderConstrained, kParamInAttribute: CondParamInAttribute,
}

func specOf(k condKind) *condSpec { return condSpecs[specKinds[k]] }

// sayIn is the description of a type whose In lists values of a subject.
func sayIn(subject string) func(Condition) string {
	return func(c Condition) string {
		if c.Negate {
			return subject + " is not " + orList(c.In)
		}
		return subject + " is " + orList(c.In)
	}
}

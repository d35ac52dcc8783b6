package policyeditor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// A policy of any kind may be written in Rego instead of rules: the
// document's "rego" field holds one module, package portico, that defines
// `decision` as {"action": "permit"|"deny"|"challenge", "reason": "…"}.
// Its input is the request document of `portico policy eval` (see
// RequestDocument and docs/POLICIES.md), the same facts the rule engine
// sees. An undefined decision falls to the document's default (deny when
// absent). The module is compiled once, into a prepared query, when the
// document is compiled; the Engine caches compiled policies per version.

// RegoQuery is the query a Rego policy answers.
const RegoQuery = "data.portico.decision"

// regoDenied are builtins a policy may not call: decisions are a function
// of the request alone (no clock, no randomness), and a policy must not
// reach the network (SSRF) or the host.
var regoDenied = []string{"http.send", "net.lookup_ip_addr", "opa.runtime", "time.now_ns", "rand.intn",
	"uuid.rfc4122", "uuid.parse", "trace", "io.jwt.decode_verify", "providers.aws.sign_req"}

var regoCaps = sync.OnceValue(func() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(slices.Clone(c.Builtins), func(b *ast.Builtin) bool { return slices.Contains(regoDenied, b.Name) })
	c.AllowNet = []string{}
	return c
})

// regoPolicy is a compiled Rego module.
type regoPolicy struct {
	query rego.PreparedEvalQuery
	def   Action
}

// compileRego prepares src; problems are reported on path "rego" with the
// line and column where the compiler found them.
func compileRego(pr *problems, src string, def Action) *regoPolicy {
	if strings.TrimSpace(src) == "" {
		pr.add("rego", "required")
		return nil
	}
	mod, err := ast.ParseModuleWithOpts("policy.rego", src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		addRegoErrors(pr, err)
		return nil
	}
	if got := mod.Package.Path.String(); got != "data.portico" {
		pr.add("rego", fmt.Sprintf("line %d: the package must be portico, not %s", mod.Package.Location.Row, strings.TrimPrefix(got, "data.")))
		return nil
	}
	q, err := rego.New(rego.Query(RegoQuery), rego.ParsedModule(mod), rego.Capabilities(regoCaps()),
		rego.StrictBuiltinErrors(true)).PrepareForEval(context.Background())
	if err != nil {
		addRegoErrors(pr, err)
		return nil
	}
	return &regoPolicy{query: q, def: def}
}

func addRegoErrors(pr *problems, err error) {
	var errs ast.Errors
	if errors.As(err, &errs) && len(errs) > 0 {
		for _, e := range errs {
			msg := e.Message
			if e.Location != nil {
				msg = fmt.Sprintf("line %d, column %d: %s", e.Location.Row, e.Location.Col, msg)
			}
			pr.add("rego", msg)
		}
		return
	}
	var one *ast.Error
	if errors.As(err, &one) {
		addRegoErrors(pr, ast.Errors{one})
		return
	}
	pr.add("rego", err.Error())
}

// decide evaluates the module. Evaluation errors (a builtin failing, a
// conflict between rule values) deny, naming the error.
func (r *regoPolicy) decide(req *Request, stepUp bool) Decision {
	in := regoInput(req, stepUp)
	rs, err := r.query.Eval(context.Background(), rego.EvalParsedInput(in))
	if err != nil {
		return Decision{Action: Deny, Reason: "the Rego policy failed: " + err.Error()}
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		d := Decision{Action: r.def, Reason: "the Rego policy gave no decision → default " + r.def.String()}
		if stepUp && d.Action == Challenge {
			d.Action, d.Reason = Permit, d.Reason+", already met by step-up → permit"
		}
		return d
	}
	m, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Decision{Action: Deny, Reason: "the Rego policy's decision is not an object {action, reason}; denied"}
	}
	s, _ := m["action"].(string)
	a, err := ParseAction(s)
	if err != nil {
		return Decision{Action: Deny, Reason: fmt.Sprintf("the Rego policy's action %q is not permit, deny or challenge; denied", s)}
	}
	reason, _ := m["reason"].(string)
	if reason == "" {
		reason = "Rego → " + a.String()
	}
	if stepUp && a == Challenge {
		a, reason = Permit, reason+", already met by step-up → permit"
	}
	return Decision{Action: a, Reason: reason}
}

// regoInput builds the request document as an OPA value directly (cheaper
// than converting a map through JSON).
func regoInput(req *Request, stepUp bool) ast.Value {
	str := func(s string) *ast.Term { return ast.StringTerm(s) }
	strs := func(xs []string) *ast.Term {
		ts := make([]*ast.Term, len(xs))
		for i, x := range xs {
			ts[i] = ast.StringTerm(x)
		}
		return ast.ArrayTerm(ts...)
	}
	tm := func(t time.Time) *ast.Term { return ast.StringTerm(t.UTC().Format(time.RFC3339)) }
	obj := func(items ...[2]*ast.Term) *ast.Term {
		o := ast.NewObject()
		for _, it := range items {
			if it[1] != nil {
				o.Insert(it[0], it[1])
			}
		}
		return ast.NewTerm(o)
	}
	kv := func(k string, v *ast.Term) [2]*ast.Term { return [2]*ast.Term{str(k), v} }
	opt := func(k string, v string) [2]*ast.Term {
		if v == "" {
			return [2]*ast.Term{str(k), nil}
		}
		return kv(k, str(v))
	}
	optTime := func(k string, t time.Time) [2]*ast.Term {
		if t.IsZero() {
			return [2]*ast.Term{str(k), nil}
		}
		return kv(k, tm(t))
	}

	attrs := ast.NewObject()
	for k, v := range req.Attributes {
		attrs.Insert(str(k), str(v))
	}
	orgAttrs := ast.NewObject()
	for k, v := range req.OrgAttributes {
		orgAttrs.Insert(str(k), str(v))
	}
	locs := make([]string, len(req.User.Locations))
	for i, l := range req.User.Locations {
		locs[i] = l.String()
	}
	mfaAt := req.User.MFAAt
	if stepUp {
		mfaAt = req.Now
	}
	ip := ""
	if req.IP.IsValid() {
		ip = req.IP.String()
	}
	items := [][2]*ast.Term{
		optTime("time", req.Now), opt("ip", ip), opt("country", req.Country),
		kv("user", obj(kv("groups", strs(req.User.Groups)), opt("org", req.Org), opt("plan", req.Plan),
			kv("attributes", ast.NewTerm(attrs)), kv("org_attributes", ast.NewTerm(orgAttrs)), optTime("mfa_at", mfaAt), kv("locations", strs(locs)),
			opt("connection", req.User.ConnectionID), optTime("partnership_ends", req.ValidUntil))),
		kv("client", obj(opt("id", req.Client.ID), kv("scopes", strs(req.Client.Scopes)), opt("type", req.Client.Type))),
		kv("stepped_up", ast.BooleanTerm(stepUp)),
	}
	if h := &req.HTTP; h.Method != "" || h.Path != "" {
		headers := ast.NewObject()
		for k, vs := range h.Header {
			if len(vs) > 0 && !strings.EqualFold(k, "Authorization") && !strings.EqualFold(k, "Cookie") && !strings.EqualFold(k, "Dpop") {
				headers.Insert(str(strings.ToLower(k)), str(vs[0]))
			}
		}
		query := ast.NewObject()
		for k, vs := range h.Query {
			query.Insert(str(k), strs(vs))
		}
		items = append(items,
			kv("request", obj(opt("method", h.Method), opt("path", h.Path), opt("host", h.Host), opt("api", h.API),
				kv("headers", ast.NewTerm(headers)), kv("query", ast.NewTerm(query)))),
			kv("token", obj(optTime("issued_at", req.Token.IssuedAt), kv("sender_constrained", ast.BooleanTerm(req.Token.SenderConstrained)),
				kv("features", strs(req.Token.Features)))))
	}
	return obj(items...).Value
}

package policyeditor

// CondFeature holds when the organization's plan has any of the features
// in AnyOf (the token's "features" claim).
const CondFeature = "feature"

var _ = registerCond(&condSpec{
	typ: CondFeature, fields: []string{"any_of"},
	say: func(c Condition) string {
		if c.Negate {
			return "the plan has none of the features " + orList(c.AnyOf)
		}
		return "the plan has the feature " + orList(c.AnyOf)
	},
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.missing = kFeature, "the plan has no features"
		out.names = nameList(cc.pr, cc.path+".any_of", c.AnyOf)
		return "plan has any of the features " + list(c.AnyOf), "plan has none of the features " + list(c.AnyOf)
	},
})

func evalFeature(c *condition, req *Request) (bool, bool) {
	return c.names.hasAny(req.Token.Features), len(req.Token.Features) > 0
}

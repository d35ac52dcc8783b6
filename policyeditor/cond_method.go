package policyeditor

import (
	"fmt"
	"strings"
)

// CondMethod holds when the API request's HTTP method is in In.
const CondMethod = "method"

var _ = registerCond(&condSpec{
	typ: CondMethod, fields: []string{"in"}, kinds: apiOnly,
	say: sayIn("the method"),
	got: func(_ *condition, req *Request) string { return fmt.Sprintf("the method is %q", req.HTTP.Method) },
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.missing = kMethod, "the request has no method"
		out.names = newStringSet(checkItems(cc.pr, cc.path+".in", c.In, func(s string) string {
			if s != strings.ToUpper(s) || strings.ContainsAny(s, " /") {
				return fmt.Sprintf("%q is not an HTTP method in upper case (GET, POST…)", s)
			}
			return ""
		}))
		return "method in " + list(c.In), "method not in " + list(c.In)
	},
})

func evalMethod(c *condition, req *Request) (bool, bool) {
	return c.names.has(req.HTTP.Method), req.HTTP.Method != ""
}

package policyeditor

import "fmt"

// CondAPI holds when the API the request is for (its registered identifier,
// RFC 8707, once APIs are registered) is in In.
const CondAPI = "api"

var _ = registerCond(&condSpec{
	typ: CondAPI, fields: []string{"in"}, kinds: apiOnly,
	say: sayIn("the API"),
	got: func(_ *condition, req *Request) string { return fmt.Sprintf("the API is %q", req.HTTP.API) },
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.missing = kAPI, "the request names no API"
		out.names = nameList(cc.pr, cc.path+".in", c.In)
		return "API in " + list(c.In), "API not in " + list(c.In)
	},
})

func evalAPI(c *condition, req *Request) (bool, bool) {
	return c.names.has(req.HTTP.API), req.HTTP.API != ""
}

package policyeditor

import (
	"fmt"
	"strings"
)

// CondHost holds when the API request's host (without port, lower case) is
// in In.
const CondHost = "host"

var _ = registerCond(&condSpec{
	typ: CondHost, fields: []string{"in"}, kinds: apiOnly,
	say: sayIn("the host"),
	got: func(_ *condition, req *Request) string { return fmt.Sprintf("the host is %q", req.HTTP.Host) },
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.missing = kHost, "the request has no host"
		out.names = newStringSet(checkItems(cc.pr, cc.path+".in", c.In, func(s string) string {
			if s != strings.ToLower(s) || strings.ContainsAny(s, " /:") {
				return fmt.Sprintf("%q is not a host name in lower case without port", s)
			}
			return ""
		}))
		return "host in " + list(c.In), "host not in " + list(c.In)
	},
})

func evalHost(c *condition, req *Request) (bool, bool) {
	return c.names.has(req.HTTP.Host), req.HTTP.Host != ""
}

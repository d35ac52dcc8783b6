package policyeditor

import (
	"fmt"
	"time"
)

// CondTokenAge holds when the access token was issued within Within (a Go
// duration), so a sensitive route can insist on a fresh token.
const CondTokenAge = "token_age"

var _ = registerCond(&condSpec{
	typ: CondTokenAge, fields: []string{"within"}, kinds: apiOnly,
	say: func(c Condition) string {
		if c.Negate {
			return "the token is older than " + orDots(c.Within)
		}
		return "the token was issued within " + orDots(c.Within)
	},
	got: func(_ *condition, req *Request) string {
		return "the token was issued " + req.Now.Sub(req.Token.IssuedAt).Round(time.Second).String() + " ago"
	},
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.missing = kTokenAge, "the request has no token issue time"
		d, err := time.ParseDuration(c.Within)
		switch {
		case c.Within == "":
			cc.add("within", "required")
		case err != nil:
			cc.add("within", fmt.Sprintf(`%q is not a duration (such as "5m" or "1h")`, c.Within))
		case d <= 0:
			cc.add("within", fmt.Sprintf("%q must be longer than zero", c.Within))
		}
		out.within = d
		return "token issued within " + c.Within, "token issued more than " + c.Within + " ago"
	},
})

func evalTokenAge(c *condition, req *Request) (bool, bool) {
	at := req.Token.IssuedAt
	if at.IsZero() || req.Now.IsZero() {
		return false, false
	}
	return req.Now.Sub(at) <= c.within, true
}

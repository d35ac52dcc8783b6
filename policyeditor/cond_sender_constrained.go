package policyeditor

// CondSenderConstrained holds when the access token is bound to a key the
// caller proved it holds (DPoP, RFC 9449, or mTLS, RFC 8705). It has no
// fields; negate it for "a bearer token".
const CondSenderConstrained = "sender_constrained"

var _ = registerCond(&condSpec{
	typ: CondSenderConstrained, kinds: apiOnly,
	say: func(c Condition) string {
		if c.Negate {
			return "the token is a bearer token"
		}
		return "the token is sender-constrained (DPoP or mTLS)"
	},
	compile: func(cc *condCompiler, c Condition, out *condition) (string, string) {
		out.kind, out.missing = kSenderConstrained, ""
		return "token is sender-constrained", "token is a bearer token"
	},
})

func evalSenderConstrained(req *Request) (bool, bool) {
	// Whether a token is bound is always known once there is a token.
	return req.Token.SenderConstrained, !req.Token.IssuedAt.IsZero() || req.Client.ID != ""
}

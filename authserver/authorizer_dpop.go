package authserver

import (
	"errors"
	"net/http"
)

// senderConstrained is the hook for sender-constrained tokens (DPoP, RFC
// 9449; being added on another branch). It reports whether the token is
// bound to a key whose possession the request proved. Until DPoP lands,
// no token carries a "cnf" claim, so every token is a bearer token; a
// request that presents one under the DPoP scheme is refused, because its
// proof cannot be checked yet.
//
// When DPoP lands: if the token has cnf.jkt, require scheme "dpop" and a
// valid DPoP header whose htm/htu are the ORIGINAL request's method and URL
// (facts.Method, facts.Proto://facts.Host+facts.Path — not this
// subrequest's), ath = hash of token, jkt matching; return true. A bound
// token under "bearer" is refused (RFC 9449 §7.1). The 401 then says
// `DPoP error="invalid_dpop_proof"` (authorizer.go already writes that).
func (a *Authorizer) senderConstrained(_ *http.Request, scheme, _ string, _ *accessClaims) (bool, error) {
	if scheme == "dpop" {
		return false, errors.New("DPoP proofs are not supported yet")
	}
	return false, nil
}

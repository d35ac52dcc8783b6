package authserver

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
)

// senderConstrained checks a DPoP-bound token (RFC 9449 §7) at the
// authorizer. The proof must be for the ORIGINAL request the gateway
// forwards (its method and URL, facts.htu), not for the subrequest to the
// authorizer; its ath must be the token's hash, its key the one in the
// token's cnf.jkt, its jti unused (the replay cache the token endpoint
// uses, shared by all replicas). A bound token presented under the Bearer
// scheme is refused (§7.1: it cannot be downgraded to a bearer token), and
// so is an unbound token under the DPoP scheme. It reports whether the
// call was sender-constrained.
func (a *Authorizer) senderConstrained(ctx context.Context, r *http.Request, facts *APIFacts, scheme, token string, c *accessClaims) (bool, *dpopError) {
	if c.Cnf == nil {
		if scheme == "dpop" {
			return false, &dpopError{code: "invalid_token", description: "the access token is not DPoP-bound; use the Bearer scheme"}
		}
		return false, nil
	}
	if scheme != "dpop" {
		return false, &dpopError{code: "invalid_token", description: "the access token is DPoP-bound; present it with the DPoP scheme and a proof"}
	}
	p, derr := a.s.verifyProof(ctx, r.Header.Values("DPoP"), facts.Method, facts.htu, token)
	if derr != nil {
		return false, derr
	}
	if p == nil {
		return false, badProof("the DPoP scheme needs a DPoP proof")
	}
	if subtle.ConstantTimeCompare([]byte(c.Cnf.JKT), []byte(p.jkt)) != 1 {
		return false, badProof("the DPoP proof is not from the key the access token is bound to")
	}
	return true, nil
}

// dpopChallenge is the 401's WWW-Authenticate for a refused DPoP call
// (RFC 9449 §7.1), with the algorithms a proof may use.
func (a *Authorizer) dpopChallenge(e *dpopError) string {
	return `DPoP realm="` + a.realm + `", error="` + e.code + `", error_description="` +
		sanitize(e.description, 200) + `", algs="` + algList() + `"`
}

// originalURL is the URL the client called, as DPoP's htu names it
// (§4.3: scheme, host with a non-default port, path; no query): from
// what the gateway forwarded. Without X-Forwarded-Proto it is https.
func originalURL(proto, host, rawPath string) string {
	if proto == "" {
		proto = "https"
	}
	if !strings.HasPrefix(rawPath, "/") {
		rawPath = "/" + rawPath
	}
	return normalizeHTU(proto + "://" + host + rawPath)
}

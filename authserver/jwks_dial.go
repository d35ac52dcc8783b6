package authserver

import (
	"net/http"
	"net/netip"
	"time"

	"portico/netguard"
)

// newJWKSClient is the default client for clients' jwks_uri: the guarded
// dialer every upstream fetch shares (netguard), which refuses loopback,
// private, link-local and other non-public addresses outside allow, with a
// short timeout, at most 3 redirects, and redirects only to https unless
// allowInsecure.
func newJWKSClient(allow []netip.Prefix, allowInsecure bool) *http.Client {
	return netguard.Guard{Allow: allow}.Client(netguard.ClientOptions{
		Timeout: 5 * time.Second, MaxRedirects: 3, HTTPSOnly: !allowInsecure})
}

// allowEverything is what AllowPrivateJWKS means: every address.
var allowEverything = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

package authserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errNotPublic is the refusal of a jwks_uri that resolves to an address
// that is not on the public internet.
var errNotPublic = errors.New("jwks_uri resolves to a loopback, private, link-local or otherwise non-public address")

// nonPublic lists special-purpose ranges that netip's predicates do not
// cover but that must not be reachable either. Read-only.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, often internal
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: would reach any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// publicAddr reports whether a is an ordinary public unicast address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if !a.IsValid() || a.Zone() != "" || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// refuseNonPublic is a net.Dialer Control function. It runs after name
// resolution, on the address actually dialled, so neither a DNS name that
// resolves to 127.0.0.1 nor a redirect to a private address gets through
// (checking the URL's host before the request would miss both, and DNS
// rebinding between a check and the dial).
func refuseNonPublic(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, errNotPublic)
	}
	if !publicAddr(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", address, errNotPublic)
	}
	return nil
}

// newJWKSClient is the default client for clients' jwks_uri: a short
// timeout, no proxy from the environment (the check must see the real
// destination), and, unless allowPrivate (tests only), a dialer that
// refuses non-public addresses. Redirects must stay on https unless
// allowInsecure.
func newJWKSClient(allowPrivate, allowInsecure bool) *http.Client {
	d := &net.Dialer{Timeout: 3 * time.Second}
	if !allowPrivate {
		d.Control = refuseNonPublic
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   3 * time.Second,
			ResponseHeaderTimeout: 3 * time.Second,
			MaxIdleConns:          10,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("jwks_uri: too many redirects")
			}
			if req.URL.Scheme != "https" && !allowInsecure {
				return errors.New("jwks_uri: redirect away from https")
			}
			return nil
		},
	}
}

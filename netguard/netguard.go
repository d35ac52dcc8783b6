// Package netguard is the one way Portico's server makes HTTP requests to
// URLs that someone other than the operator chose: an organization's OIDC
// issuer, SAML metadata URL and social-provider domains (federation), and
// a client's jwks_uri (authserver). Those URLs are typed by org admins and
// client developers, so without a guard the server would fetch
// http://169.254.169.254/ or an intranet host on their behalf and "Test
// connection" would tell them what answered (server-side request forgery).
//
// It is a package of its own, below authserver and federation and
// importing neither, so both use the same dialer and the operator's allow
// list (PORTICO_UPSTREAM_ALLOW) means the same everywhere. The check runs
// in the dialer's Control hook, after name resolution, on the address
// actually dialled: a name that resolves to 127.0.0.1, a DNS answer that
// changes between a check and the connection (rebinding), and a redirect
// to an internal host are all caught where the socket is made.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrRefused matches every refusal with errors.Is.
var ErrRefused = errors.New("netguard: destination address refused")

// RefusedError says which address was refused and why; its message is fit
// to show the admin who configured the URL (it names only the address
// their own URL led to and the operator's setting).
type RefusedError struct {
	Addr   netip.Addr
	Reason string // "a link-local address", "a loopback address", …
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused: %s is %s; the operator can allow it with PORTICO_UPSTREAM_ALLOW", e.Addr, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// special lists special-purpose ranges that netip's predicates do not
// cover but that must not be reachable either. Read-only.
var special = []struct {
	p      netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (shared) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol-assignment address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address (it can reach any IPv4 address)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address (it embeds an IPv4 address)"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address (it embeds an IPv4 address)"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "an IPv4-translated address"},
	// ::a.b.c.d: a host with the sit module loaded routes these to a.b.c.d
	// (automatic tunnelling), so ::127.0.0.1 could be loopback.
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address (it embeds an IPv4 address)"},
}

// Classify returns why a is not an ordinary public unicast address ("a
// loopback address", …), or "" when it is one.
func Classify(a netip.Addr) string {
	a = a.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case !a.IsValid():
		return "not an IP address"
	case a.Zone() != "":
		return "a zoned (interface-scoped) address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsPrivate():
		return "a private address"
	case a.IsUnspecified():
		return "an unspecified address"
	case a.IsMulticast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, s := range special {
		if s.p.Contains(a) {
			return s.reason
		}
	}
	if !a.IsGlobalUnicast() {
		return "not a public unicast address"
	}
	return ""
}

// Guard refuses non-public destinations except those in Allow. The zero
// value allows nothing but public addresses.
type Guard struct {
	// Allow lists ranges the operator lets upstream requests reach anyway:
	// a test IdP on loopback, a company IdP on a private network.
	Allow []netip.Prefix
}

// ParseAllow reads a comma-separated list of CIDRs or single addresses, as
// PORTICO_UPSTREAM_ALLOW gives it.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			a, aerr := netip.ParseAddr(raw)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a CIDR or address", raw)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Check returns nil when a may be dialled, and a *RefusedError otherwise.
func (g Guard) Check(a netip.Addr) error {
	a = a.Unmap()
	reason := Classify(a)
	if reason == "" {
		return nil
	}
	for _, p := range g.Allow {
		if p.Contains(a) {
			return nil
		}
	}
	return &RefusedError{Addr: a, Reason: reason}
}

// Control is a net.Dialer Control function: it runs once per address the
// dialer tries, after resolution.
func (g Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Addr: netip.Addr{}, Reason: "not an IP address"}
	}
	return g.Check(ap.Addr())
}

// Transport is an http.Transport whose every connection goes through the
// guard. It ignores proxy settings from the environment: through a proxy
// the dialer would see only the proxy's address, not the destination.
func (g Guard) Transport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: g.Control}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConns:          20,
		IdleConnTimeout:       60 * time.Second,
	}
}

// ClientOptions shape a guarded client.
type ClientOptions struct {
	Timeout time.Duration // whole request; 0 means 10s
	// MaxRedirects followed; 0 means 5.
	MaxRedirects int
	// HTTPSOnly refuses a redirect away from https.
	HTTPSOnly bool
}

// Client returns an http.Client on Transport. Redirects are followed only
// a few times; one whose target is a literal address the guard refuses is
// stopped before any dial (a redirect to a name is checked when dialled).
func (g Guard) Client(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 5
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: g.Transport(),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= o.MaxRedirects {
				return errors.New("netguard: too many redirects")
			}
			if o.HTTPSOnly && req.URL.Scheme != "https" {
				return errors.New("netguard: redirect away from https")
			}
			if a, err := netip.ParseAddr(strings.Trim(req.URL.Hostname(), "[]")); err == nil {
				if err := g.Check(a); err != nil {
					return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
				}
			}
			return nil
		},
	}
}

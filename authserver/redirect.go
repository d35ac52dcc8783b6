package authserver

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// redirectAllowed reports whether requested exactly matches one of the
// registered redirect URIs (RFC 9700 §4.1: exact string comparison). The one
// exception is RFC 8252 §7.3: a native app's loopback IP redirect URI may
// use any port, because the app picks a free one when it starts.
func redirectAllowed(registered []string, requested string, native bool) bool {
	if requested == "" {
		return false
	}
	if slices.Contains(registered, requested) {
		return true
	}
	if !native {
		return false
	}
	req, ok := loopbackIP(requested)
	if !ok {
		return false
	}
	for _, r := range registered {
		reg, ok := loopbackIP(r)
		if ok && reg.Hostname() == req.Hostname() && reg.EscapedPath() == req.EscapedPath() && reg.RawQuery == req.RawQuery {
			return true
		}
	}
	return false
}

// loopbackIP parses an http URL whose host is a loopback IP literal (not
// "localhost", which RFC 8252 §8.3 advises against) without user info or
// fragment.
func loopbackIP(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, false
	}
	ip := net.ParseIP(u.Hostname())
	return u, ip != nil && ip.IsLoopback()
}

// validRedirectURI says what is wrong with a redirect URI a client wants to
// register, or "": absolute, no fragment, no wildcards, no user info; https,
// or http on a loopback address; a native app may also use a private-use
// scheme in reverse-domain form (RFC 8252 §7.1).
func validRedirectURI(raw string, native bool) string {
	if raw == "" {
		return "must not be empty"
	}
	if len(raw) > 2000 {
		return "is too long"
	}
	if strings.ContainsAny(raw, "*#") {
		return "must not contain wildcards or a fragment"
	}
	if strings.ContainsAny(raw, " \t\r\n\\<>\"") {
		return "contains characters not allowed in a URI"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "must be an absolute URI"
	}
	if u.User != nil {
		return "must not contain user information"
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return "must name a host"
		}
		return ""
	case "http":
		if h := u.Hostname(); h == "localhost" || isLoopbackIP(h) {
			return ""
		}
		return "must use https (http is allowed only for loopback addresses)"
	}
	if native && strings.Contains(u.Scheme, ".") && u.Opaque == "" && u.Host == "" {
		return ""
	}
	if native {
		return "must use https, http on a loopback address, or a reverse-domain private-use scheme such as com.example.app:/callback"
	}
	return "must use https (http is allowed only for loopback addresses)"
}

func isLoopbackIP(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

package authserver

import (
	"net/url"
	"slices"
	"testing"
)

// FuzzRedirectAllowed checks the matching rules: a non-native client's
// redirect URI is allowed only when it is byte-for-byte registered; a
// native client's may differ from a registered loopback IP URI in its port
// only; nothing with a fragment or user info is ever allowed unless
// registered exactly (and registration refuses those).
func FuzzRedirectAllowed(f *testing.F) {
	f.Add("https://app.example/cb", "https://app.example/cb", false)
	f.Add("https://app.example/cb", "https://app.example/cb/", false)
	f.Add("http://127.0.0.1/cb", "http://127.0.0.1:5123/cb", true)
	f.Add("http://127.0.0.1:80/cb", "http://127.0.0.1:5123/cb?x=1", true)
	f.Add("http://[::1]/cb", "http://[::1]:1/cb", true)
	f.Add("https://app.example/cb", "https://APP.example/cb", false)
	f.Add("com.example.app:/cb", "com.example.app:/cb", true)
	f.Fuzz(func(t *testing.T, registered, requested string, native bool) {
		ok := redirectAllowed([]string{registered}, requested, native)
		if !ok {
			return
		}
		if requested == registered {
			return
		}
		if !native {
			t.Fatalf("non-native %q allowed for registered %q", requested, registered)
		}
		req, err1 := url.Parse(requested)
		reg, err2 := url.Parse(registered)
		if err1 != nil || err2 != nil {
			t.Fatalf("unparseable URI allowed: %q for %q", requested, registered)
		}
		if req.Scheme != "http" || req.Hostname() != reg.Hostname() || req.EscapedPath() != reg.EscapedPath() ||
			req.RawQuery != reg.RawQuery || req.Fragment != "" || req.User != nil {
			t.Fatalf("native %q allowed for %q beyond a port change", requested, registered)
		}
		if !isLoopbackIP(req.Hostname()) {
			t.Fatalf("port variance allowed for a non-loopback host: %q", requested)
		}
	})
}

// FuzzValidRedirectURI: whatever registration accepts has no fragment, no
// wildcard, and is https or loopback http (or a native private-use scheme).
func FuzzValidRedirectURI(f *testing.F) {
	for _, s := range []string{"https://a.example/cb", "http://localhost:3000/cb", "http://10.0.0.1/cb",
		"https://a.example/*", "https://a.example/cb#x", "com.example.app:/cb", "javascript:alert(1)", "//a.example"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, native bool) {
		if validRedirectURI(raw, native) != "" {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Fragment != "" || u.User != nil {
			t.Fatalf("accepted %q", raw)
		}
		switch u.Scheme {
		case "https":
		case "http":
			if h := u.Hostname(); h != "localhost" && !isLoopbackIP(h) {
				t.Fatalf("accepted non-loopback http %q", raw)
			}
		default:
			if !native || slices.Contains([]string{"javascript", "data", "file"}, u.Scheme) {
				t.Fatalf("accepted scheme %q in %q", u.Scheme, raw)
			}
		}
	})
}

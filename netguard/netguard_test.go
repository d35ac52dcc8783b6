package netguard

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for addr, want := range map[string]string{
		"93.184.215.14":        "",
		"2606:2800:21f:cb07::": "",
		"127.0.0.1":            "a loopback address",
		"127.9.9.9":            "a loopback address",
		"::1":                  "a loopback address",
		"::ffff:127.0.0.1":     "a loopback address",
		"::ffff:10.0.0.1":      "a private address",
		"10.1.2.3":             "a private address",
		"172.16.0.1":           "a private address",
		"192.168.1.1":          "a private address",
		"169.254.169.254":      "a link-local address", // cloud metadata
		"fe80::1":              "a link-local address",
		"fd00::1":              "a private address",
		"0.0.0.0":              "an unspecified address",
		"::":                   "an unspecified address",
		"0.1.2.3":              `a "this network" address`,
		"100.64.0.1":           "a carrier-grade NAT (shared) address",
		"224.0.0.1":            "a multicast address",
		"255.255.255.255":      "a reserved address",
		"64:ff9b::a00:1":       "a NAT64 address (it can reach any IPv4 address)",
		"2002:a00:1::":         "a 6to4 address (it embeds an IPv4 address)",
	} {
		if got := Classify(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Classify(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestParseAllow(t *testing.T) {
	got, err := ParseAllow(" 10.0.0.0/8, 127.0.0.1 ,,fd00::/8")
	if err != nil || len(got) != 3 || got[1] != netip.MustParsePrefix("127.0.0.1/32") {
		t.Fatalf("ParseAllow = %v, %v", got, err)
	}
	if _, err := ParseAllow("10.0.0.0/8, intranet"); err == nil {
		t.Fatal("a name in the allow list was accepted")
	}
}

// TestClientRefuses: the guarded client refuses loopback (also reached
// through a name, so the check is on the resolved address), link-local
// and private destinations and a redirect to one, says what and why, and
// reaches an address the operator allowed.
func TestClientRefuses(t *testing.T) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		w.Write([]byte("answered"))
	}))
	defer idp.Close()
	port := idp.URL[strings.LastIndexByte(idp.URL, ':'):]

	quick := ClientOptions{Timeout: 2 * time.Second}
	for _, tc := range []struct{ name, url, want string }{
		{"loopback", idp.URL, "refused: 127.0.0.1 is a loopback address; the operator can allow it with PORTICO_UPSTREAM_ALLOW"},
		{"loopback by name", "http://localhost" + port, "is a loopback address"},
		{"link-local", "http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address; the operator can allow it with PORTICO_UPSTREAM_ALLOW"},
		{"private", "http://10.20.30.40/", "refused: 10.20.30.40 is a private address"},
		{"private v6", "http://[fd00::1]/", "refused: fd00::1 is a private address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := Guard{}.Client(quick).Get(tc.url)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("%s was fetched", tc.url)
			}
			var re *RefusedError
			if !errors.Is(err, ErrRefused) || !errors.As(err, &re) || !strings.Contains(re.Error(), tc.want) {
				t.Fatalf("err = %v, want a refusal containing %q", err, tc.want)
			}
		})
	}

	t.Run("allowed CIDR", func(t *testing.T) {
		g := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
		resp, err := g.Client(quick).Get(idp.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		// The allow list opens exactly its ranges, nothing else.
		if err := g.Check(netip.MustParseAddr("169.254.169.254")); !errors.Is(err, ErrRefused) {
			t.Fatalf("link-local with only loopback allowed: %v", err)
		}
	})

	t.Run("redirect to link-local", func(t *testing.T) {
		g := Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		resp, err := g.Client(quick).Get(idp.URL + "/hop")
		if err == nil {
			resp.Body.Close()
			t.Fatal("the redirect was followed")
		}
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "169.254.169.254 is a link-local address") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestRefusesIPv4Compatible: ::a.b.c.d (deprecated IPv4-compatible form)
// is refused, since automatic tunnelling would deliver it to a.b.c.d.
func TestRefusesIPv4Compatible(t *testing.T) {
	for _, addr := range []string{"::127.0.0.1", "::169.254.169.254", "::10.0.0.1", "::8.8.8.8"} {
		if err := (Guard{}).Check(netip.MustParseAddr(addr)); err == nil {
			t.Errorf("%s was allowed", addr)
		}
	}
	if err := (Guard{}).Check(netip.MustParseAddr("::1")); err == nil {
		t.Error("::1 was allowed")
	}
}

package policyeditor

import (
	"net/netip"
	"strings"
	"testing"
)

func TestIPLocLocator(t *testing.T) {
	var loc Locator = IPLocLocator{}
	tests := []struct {
		name string
		ip   netip.Addr
		want string
	}{
		{"Google DNS", addr("8.8.8.8"), "US"},
		{"IPv4-mapped form of the same", addr("::ffff:8.8.8.8"), "US"},
		{"Deutsche Telekom", addr("80.128.0.1"), "DE"},
		{"private range", addr("10.1.2.3"), ""},
		{"documentation range", addr("2001:db8::1"), ""},
		{"unknown address", netip.Addr{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := loc.Country(tc.ip); got != tc.want {
				t.Fatalf("Country(%v) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
	if !strings.Contains(IP2LocationAttributionHTML, IP2LocationAttribution[:40]) || IPLocDataVersion == "" {
		t.Fatal("attribution constants inconsistent")
	}
}

func TestLocationOf(t *testing.T) {
	tests := []struct {
		name string
		ip   netip.Addr
		want netip.Prefix
	}{
		{"IPv4 /24", addr("198.51.100.4"), prefix("198.51.100.0/24")},
		{"IPv4-mapped counts as IPv4", addr("::ffff:198.51.100.4"), prefix("198.51.100.0/24")},
		{"IPv6 /48", addr("2001:db8:aa:bb::1"), prefix("2001:db8:aa::/48")},
		{"IPv6 zone dropped", addr("fe80::1%eth0"), prefix("fe80::/48")},
		{"unknown has no location", netip.Addr{}, netip.Prefix{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := LocationOf(tc.ip); got != tc.want {
				t.Fatalf("LocationOf(%v) = %v, want %v", tc.ip, got, tc.want)
			}
		})
	}
}

func TestIsCountryCode(t *testing.T) {
	for _, c := range []string{"DE", "AD", "ZW", "GB", "BR"} {
		if !IsCountryCode(c) {
			t.Errorf("%s refused", c)
		}
	}
	for _, c := range []string{"", "D", "DEU", "de", "UK", "EU", "ZZ", "XK", "A ", "AD "} {
		if IsCountryCode(c) {
			t.Errorf("%q accepted", c)
		}
	}
}

func TestEveryListedCodeIsFound(t *testing.T) {
	n := 0
	for i := 0; i+2 <= len(iso3166); i += 3 {
		if c := iso3166[i : i+2]; !IsCountryCode(c) {
			t.Errorf("%s not found", c)
		}
		if i > 0 && iso3166[i-3:i-1] >= iso3166[i:i+2] {
			t.Errorf("list not sorted at %s", iso3166[i:i+2])
		}
		n++
	}
	if n != 249 {
		t.Fatalf("%d codes, want 249", n)
	}
}

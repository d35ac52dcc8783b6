package policyeditor

import "net/netip"

// Location sizes from DESIGN.md: the network an address belongs to is what a user
// "comes from", so a new address from the same office or ISP pool is not new.
const (
	LocationBitsIPv4 = 24
	LocationBitsIPv6 = 48
)

// LocationOf returns the network a request from a comes from: its /24 for IPv4, its
// /48 for IPv6, an IPv4-mapped IPv6 address counting as IPv4. An invalid address
// has no location and yields the zero Prefix.
func LocationOf(a netip.Addr) netip.Prefix {
	switch {
	case !a.IsValid():
		return netip.Prefix{}
	case a.Is4In6():
		a = a.Unmap()
	case a.Is6():
		a = a.WithZone("")
	}
	bits := LocationBitsIPv6
	if a.Is4() {
		bits = LocationBitsIPv4
	}
	p, _ := a.Prefix(bits)
	return p
}

// locationKnown reports whether loc is among the remembered locations. Each
// remembered entry is reduced to its own location first, so an entry stored as an
// address, or in IPv4-mapped form, still matches its network.
func locationKnown(loc netip.Prefix, remembered []netip.Prefix) bool {
	for _, r := range remembered {
		if r.IsValid() && LocationOf(r.Addr()) == loc {
			return true
		}
	}
	return false
}

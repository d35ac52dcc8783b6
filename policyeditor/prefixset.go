package policyeditor

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
)

// u128 is an address as a 128-bit number. IPv4 addresses are stored in their
// IPv4-mapped IPv6 form (::ffff:a.b.c.d), so an IPv4 range also matches the same
// address arriving as IPv4-mapped IPv6 from a dual-stack listener.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) next() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return a, false
}

func addrKey(a netip.Addr) u128 {
	b := a.As16() // IPv4 comes back IPv4-mapped, which is the point
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

type span struct{ first, last u128 }

// prefixSet is a list of address ranges, merged and sorted at compile time so a
// lookup is a binary search, however many ranges an admin listed.
type prefixSet struct{ spans []span }

func prefixSpan(p netip.Prefix) span {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	first := addrKey(p.Addr())
	last := first
	switch {
	case bits == 0:
		last = u128{^uint64(0), ^uint64(0)}
	case bits <= 64:
		last.hi |= ^uint64(0) >> bits
		last.lo = ^uint64(0)
	case bits < 128:
		last.lo |= ^uint64(0) >> (bits - 64)
	}
	return span{first, last}
}

func newPrefixSet(ps []netip.Prefix) prefixSet {
	spans := make([]span, 0, len(ps))
	for _, p := range ps {
		spans = append(spans, prefixSpan(p))
	}
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.first.less(b.first):
			return -1
		case b.first.less(a.first):
			return 1
		}
		return 0
	})
	merged := spans[:0]
	for _, s := range spans {
		if n := len(merged); n > 0 {
			prev := &merged[n-1]
			after, ok := prev.last.next()
			if !ok || !after.less(s.first) { // overlapping or adjacent
				if prev.last.less(s.last) {
					prev.last = s.last
				}
				continue
			}
		}
		merged = append(merged, s)
	}
	return prefixSet{spans: merged}
}

func (s *prefixSet) contains(a netip.Addr) bool {
	k := addrKey(a)
	// Find the last span starting at or before k.
	lo, hi := 0, len(s.spans)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if k.less(s.spans[mid].first) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo > 0 && !s.spans[lo-1].last.less(k)
}

// parseRange reads one entry of an ip condition: a CIDR prefix or a single
// address. Zones are refused: they name an interface of one host, not a network.
func parseRange(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return unmapPrefix(p), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// unmapPrefix turns an IPv4-mapped prefix wholly inside ::ffff:0:0/96 into its IPv4
// form, so documents and remembered locations compare the way requests do.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

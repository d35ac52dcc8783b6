package policyeditor

import (
	"net/netip"

	"github.com/phuslu/iploc"
)

// Locator finds the country of an address. Callers use it to fill
// Request.Country; the engine itself never looks anything up.
type Locator interface {
	// Country returns the ISO 3166-1 alpha-2 code in upper case, or "" when the
	// address is unknown, private or reserved.
	Country(netip.Addr) string
}

// IP2LocationAttribution is the credit the IP2Location LITE licence (CC BY-SA 4.0)
// requires wherever the portal shows or relies on IPLocLocator's countries.
const IP2LocationAttribution = "This site or product includes IP2Location LITE data available from https://lite.ip2location.com."

// IP2LocationAttributionHTML is IP2LocationAttribution with its link, trusted
// HTML for the portal's footer and the decision log.
const IP2LocationAttributionHTML = `This site or product includes IP2Location LITE data available from <a href="https://lite.ip2location.com">https://lite.ip2location.com</a>.`

// IPLocDataVersion is the version of the embedded country table, for the admin's
// "about" page and the decision log.
const IPLocDataVersion = iploc.Version

// IPLocLocator is the Locator over github.com/phuslu/iploc's embedded table. The
// zero value is ready to use. Its first IPv6 lookup unpacks the IPv6 table once
// (a few megabytes) inside the library.
type IPLocLocator struct{}

// Country implements Locator.
func (IPLocLocator) Country(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	// The table keys IPv4 by its 4-byte form; a mapped address would be looked up
	// in the IPv6 table instead and miss.
	c := iploc.IPCountry(a.Unmap().WithZone(""))
	if c == "ZZ" || !IsCountryCode(c) {
		return ""
	}
	return c
}

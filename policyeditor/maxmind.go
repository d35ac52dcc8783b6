package policyeditor

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// MaxMindLocator is the Locator over a MaxMind DB file (GeoLite2 or GeoIP2
// Country or City, or any database with country.iso_code), for deployments that
// configure their own, fresher or licensed data instead of the embedded table.
// It is safe for concurrent use; Close it when the file is replaced.
type MaxMindLocator struct {
	db *maxminddb.Reader
}

// OpenMaxMind opens a .mmdb file. The file is memory-mapped, so it must not be
// rewritten in place while open; write a new file and open that instead.
func OpenMaxMind(path string) (*MaxMindLocator, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policyeditor: open MaxMind database: %w", err)
	}
	return &MaxMindLocator{db: db}, nil
}

// Country implements Locator. Lookup errors (a corrupt record, an IPv6 address in
// an IPv4-only database) count as unknown: geolocation is best effort, and a
// policy treats an unknown country as missing data.
func (m *MaxMindLocator) Country(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	var iso string
	if err := m.db.Lookup(a.Unmap()).DecodePath(&iso, "country", "iso_code"); err != nil || !IsCountryCode(iso) {
		return ""
	}
	return iso
}

// DatabaseType is the database's own name for its contents ("GeoLite2-City"…), for
// the admin's "about" page.
func (m *MaxMindLocator) DatabaseType() string { return m.db.Metadata.DatabaseType }

// Close releases the file.
func (m *MaxMindLocator) Close() error { return m.db.Close() }

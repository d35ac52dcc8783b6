package policyeditor

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// mmdbWriter writes the smallest MaxMind DB (format 2.0, IPv6 tree, 24-bit
// records) that real readers accept, so the locator is tested against the
// library without shipping a licensed database in the repository.
type mmdbWriter struct {
	nodes [][2]mmdbRecord
	data  bytes.Buffer
}

type mmdbRecord struct {
	kind int // 0 empty, 1 node, 2 data
	v    int
}

func (w *mmdbWriter) insert(p netip.Prefix, country string) {
	off := w.data.Len()
	mmdbMap(&w.data, 1)
	mmdbString(&w.data, "country")
	mmdbMap(&w.data, 1)
	mmdbString(&w.data, "iso_code")
	mmdbString(&w.data, country)

	key, bits := p.Addr().As16(), p.Bits()
	if p.Addr().Is4() {
		key = [16]byte{} // IPv4 lives under ::/96 in an IPv6 tree
		copy(key[12:], p.Addr().AsSlice())
		bits += 96
	}
	if len(w.nodes) == 0 {
		w.nodes = append(w.nodes, [2]mmdbRecord{})
	}
	n := 0
	for i := 0; i < bits; i++ {
		b := int(key[i/8]>>(7-i%8)) & 1
		if i == bits-1 {
			w.nodes[n][b] = mmdbRecord{kind: 2, v: off}
			break
		}
		if w.nodes[n][b].kind != 1 {
			w.nodes = append(w.nodes, [2]mmdbRecord{})
			w.nodes[n][b] = mmdbRecord{kind: 1, v: len(w.nodes) - 1}
		}
		n = w.nodes[n][b].v
	}
}

func (w *mmdbWriter) bytes() []byte {
	var out bytes.Buffer
	count := len(w.nodes)
	for _, nd := range w.nodes {
		for _, r := range nd {
			v := count // empty
			switch r.kind {
			case 1:
				v = r.v
			case 2:
				v = count + 16 + r.v
			}
			out.Write([]byte{byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
	out.Write(make([]byte, 16))
	out.Write(w.data.Bytes())
	out.WriteString("\xab\xcd\xefMaxMind.com")
	mmdbMap(&out, 9)
	mmdbString(&out, "node_count")
	mmdbUint(&out, 6, uint64(count))
	mmdbString(&out, "record_size")
	mmdbUint(&out, 5, 24)
	mmdbString(&out, "ip_version")
	mmdbUint(&out, 5, 6)
	mmdbString(&out, "database_type")
	mmdbString(&out, "Portico-Test-Country")
	mmdbString(&out, "languages")
	out.Write([]byte{1, 4}) // array (extended type 11) of one
	mmdbString(&out, "en")
	mmdbString(&out, "binary_format_major_version")
	mmdbUint(&out, 5, 2)
	mmdbString(&out, "binary_format_minor_version")
	mmdbUint(&out, 5, 0)
	mmdbString(&out, "build_epoch")
	mmdbUint(&out, 9, 1_790_000_000)
	mmdbString(&out, "description")
	mmdbMap(&out, 1)
	mmdbString(&out, "en")
	mmdbString(&out, "test data")
	return out.Bytes()
}

func mmdbString(b *bytes.Buffer, s string) { b.WriteByte(2<<5 | byte(len(s))); b.WriteString(s) }
func mmdbMap(b *bytes.Buffer, n int)       { b.WriteByte(7<<5 | byte(n)) }

// mmdbUint writes an unsigned integer of the given data type (5 uint16, 6 uint32,
// 9 uint64) in its shortest big-endian form.
func mmdbUint(b *bytes.Buffer, typ byte, v uint64) {
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], v)
	i := 0
	for i < 8 && raw[i] == 0 {
		i++
	}
	size := byte(8 - i)
	if typ > 7 {
		b.Write([]byte{size, typ - 7})
	} else {
		b.WriteByte(typ<<5 | size)
	}
	b.Write(raw[i:])
}

func TestMaxMindLocator(t *testing.T) {
	var w mmdbWriter
	w.insert(prefix("81.2.69.0/24"), "GB")
	w.insert(prefix("2001:db8::/32"), "DE")
	path := filepath.Join(t.TempDir(), "test.mmdb")
	if err := os.WriteFile(path, w.bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := OpenMaxMind(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var loc Locator = m
	tests := []struct {
		name string
		ip   netip.Addr
		want string
	}{
		{"IPv4 in range", addr("81.2.69.142"), "GB"},
		{"IPv4-mapped", addr("::ffff:81.2.69.142"), "GB"},
		{"IPv4 outside", addr("81.2.70.1"), ""},
		{"IPv6 in range", addr("2001:db8:ff::1"), "DE"},
		{"IPv6 outside", addr("2001:db9::1"), ""},
		{"unknown", netip.Addr{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := loc.Country(tc.ip); got != tc.want {
				t.Fatalf("Country(%v) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
	if m.DatabaseType() != "Portico-Test-Country" {
		t.Fatalf("DatabaseType = %q", m.DatabaseType())
	}
	if _, err := OpenMaxMind(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Fatal("opening a missing file succeeded")
	}
}

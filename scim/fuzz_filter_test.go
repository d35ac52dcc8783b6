package scim

import (
	"strings"
	"testing"
)

// FuzzParseFilter parses arbitrary SCIM filters: no panic; a filter that
// parses names an allowed attribute, and one that does not is a SCIM error
// with a type and a detail.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`userName eq "ann@example.com"`, `externalId eq "00u1"`,
		`emails[type eq "work"].value eq "a@b.c"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`,
		`displayName eq "Sales \"EU\""`, `userName sw "a"`, `userName eq "a" and active eq true`, ``, `eq`} {
		f.Add(s)
	}
	allowed := []string{"username", "externalid", "emails.value", "displayname"}
	f.Fuzz(func(t *testing.T, q string) {
		fl, e := parseFilter(q, allowed...)
		if e != nil {
			if fl != nil || e.Detail == "" {
				t.Fatalf("bad error for %q: %+v %+v", q, fl, e)
			}
			return
		}
		if fl == nil {
			if strings.TrimSpace(q) != "" {
				t.Fatalf("%q: no filter and no error", q)
			}
			return
		}
		ok := false
		for _, a := range allowed {
			ok = ok || fl.attr == a
		}
		if !ok {
			t.Fatalf("%q parsed to an attribute not allowed: %q", q, fl.attr)
		}
	})
}

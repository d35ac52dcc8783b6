package saml

import (
	"testing"
)

// FuzzRequireSignedAssertions feeds arbitrary bytes as a SAML response to
// the check that runs before crewjam's: no panic, and a response with an
// unsigned assertion is always refused.
func FuzzRequireSignedAssertions(f *testing.F) {
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></saml:Assertion></samlp:Response>`))
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion><saml:Subject/></saml:Assertion></samlp:Response>`))
	f.Add([]byte(`<Response><EncryptedAssertion/></Response>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><Response>&a;</Response>`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := requireSignedAssertions(raw)
		if err == nil && len(raw) == 0 {
			t.Fatal("empty response accepted")
		}
	})
}

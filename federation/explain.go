package federation

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// httpStatusRE finds the status in the two libraries' untyped errors for
// a non-2xx answer: go-oidc's "404 Not Found: <body>" and crewjam/saml's
// "unexpected status code 404". Neither exports a type for it.
var httpStatusRE = regexp.MustCompile(`(?:^|: )([1-5][0-9]{2}) [A-Z][A-Za-z ]*:|unexpected status code ([1-5][0-9]{2})`)

// Explain says in words why opening or testing a connection failed, for
// the admin who set it up: a name that does not resolve, a TLS certificate
// that is not accepted, a refused connection or a timeout, an HTTP status,
// a discovery document or metadata that cannot be read. It returns "" when
// the cause is none of those; the caller then shows a general message.
// The words name no secret: only hosts, statuses and kinds of failure.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var (
		dns       *net.DNSError
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		mismatch  *gooidc.IssuerMismatchError
		syntax    *json.SyntaxError
		jsonType  *json.UnmarshalTypeError
		xmlSyntax *xml.SyntaxError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return fmt.Sprintf("DNS: the host name %s does not exist.", dns.Name)
		}
		return fmt.Sprintf("DNS: the host name %s could not be resolved now.", dns.Name)
	case errors.As(err, &unknownCA):
		return "TLS: the identity provider's certificate is not signed by an authority this server trusts."
	case errors.As(err, &hostname):
		return "TLS: the identity provider's certificate is for another host name."
	case errors.As(err, &invalid):
		return "TLS: the identity provider's certificate is not valid (expired or not yet valid)."
	case errors.As(err, &verify):
		return "TLS: the identity provider's certificate was not accepted."
	case errors.As(err, &record):
		return "TLS: the server did not answer with TLS; check the URL's scheme and port."
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connection refused: nothing listens at that address and port."
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "Timeout: the identity provider did not answer in time."
	case errors.As(err, &mismatch):
		return fmt.Sprintf("Bad discovery document: it names the issuer %q, not the URL entered (%q); they must match exactly.",
			mismatch.Discovered, mismatch.Provided)
	case errors.As(err, &syntax), errors.As(err, &jsonType):
		return "Bad discovery document: the answer is not the JSON an OpenID provider publishes."
	case errors.As(err, &xmlSyntax):
		return "Bad metadata: the SAML metadata is not well-formed XML."
	}
	// Causes the libraries report as text only: net/http's answer to an
	// https URL served in plain HTTP, and go-oidc's decoding failure.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "TLS: the server did not answer with TLS; check the URL's scheme and port."
	case strings.Contains(msg, "failed to decode provider discovery object"):
		return "Bad discovery document: the answer is not the JSON an OpenID provider publishes."
	}
	if m := httpStatusRE.FindStringSubmatch(msg); m != nil {
		code := m[1] + m[2]
		n, _ := strconv.Atoi(code)
		return fmt.Sprintf("HTTP status %d: the identity provider answered with an error instead of its configuration.", n)
	}
	return ""
}

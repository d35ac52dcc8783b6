package saml

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"

	"portico/federation"
)

// Connector is one connection's service provider.
type Connector struct {
	sp  *crewsaml.ServiceProvider
	cfg Config
	now func() time.Time
}

// LoginURL makes a signed AuthnRequest for the HTTP-Redirect binding; the
// request ID is the connData, so only an answer to it is accepted.
func (c *Connector) LoginURL(_ context.Context, state string) (string, []byte, error) {
	loc := c.sp.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding)
	if loc == "" {
		return "", nil, errors.New("saml: the IdP offers no HTTP-Redirect sign-on endpoint")
	}
	req, err := c.sp.MakeAuthenticationRequest(loc, crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding)
	if err != nil {
		return "", nil, err
	}
	u, err := req.Redirect(state, c.sp)
	if err != nil {
		return "", nil, err
	}
	return u.String(), []byte(req.ID), nil
}

// HandleCallback validates the POSTed SAMLResponse.
func (c *Connector) HandleCallback(_ context.Context, connData []byte, r *http.Request) (federation.Identity, error) {
	if err := r.ParseForm(); err != nil {
		return federation.Identity{}, federation.Upstream(err)
	}
	raw, err := base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLResponse"))
	if err != nil || len(raw) == 0 {
		return federation.Identity{}, federation.Upstream(errors.New("saml: no SAMLResponse"))
	}
	if err := requireSignedAssertions(raw); err != nil {
		return federation.Identity{}, federation.Upstream(err)
	}
	a, err := c.sp.ParseXMLResponse(raw, []string{string(connData)}, c.sp.AcsURL)
	if err != nil {
		var ire *crewsaml.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		return federation.Identity{}, federation.Upstream(fmt.Errorf("saml: response: %w", err))
	}
	// crewjam checks validity with its own package clock; check again with
	// ours, which is the one the rest of the portal (and its tests) uses.
	now := c.now()
	if a.Conditions != nil && !a.Conditions.NotOnOrAfter.IsZero() && !now.Before(a.Conditions.NotOnOrAfter.Add(crewsaml.MaxClockSkew)) {
		return federation.Identity{}, federation.Upstream(errors.New("saml: assertion expired"))
	}
	if a.IssueInstant.Add(crewsaml.MaxIssueDelay).Before(now) {
		return federation.Identity{}, federation.Upstream(errors.New("saml: assertion issued too long ago"))
	}
	return c.identity(a), nil
}

// requireSignedAssertions refuses a response whose plain-text assertions
// carry no signature of their own. (Encrypted assertions are checked by
// crewjam after decryption: without a signed response they must be signed.)
func requireSignedAssertions(raw []byte) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return errors.New("saml: response is not XML")
	}
	for _, el := range doc.Root().ChildElements() {
		if el.Tag != "Assertion" {
			continue
		}
		signed := false
		for _, ch := range el.ChildElements() {
			if ch.Tag == "Signature" {
				signed = true
			}
		}
		if !signed {
			return errors.New("saml: assertion is not signed")
		}
	}
	return nil
}

func (c *Connector) identity(a *crewsaml.Assertion) federation.Identity {
	attrs := map[string][]string{}
	if len(a.AttributeStatements) > 0 {
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				var vals []string
				for _, v := range at.Values {
					vals = append(vals, v.Value)
				}
				attrs[at.Name] = append(attrs[at.Name], vals...)
				if at.FriendlyName != "" {
					attrs[at.FriendlyName] = append(attrs[at.FriendlyName], vals...)
				}
			}
		}
	}
	pick := func(configured string, defaults ...string) []string {
		if configured != "" {
			return attrs[configured]
		}
		for _, d := range defaults {
			if v := attrs[d]; len(v) > 0 {
				return v
			}
		}
		return nil
	}
	first := func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return strings.TrimSpace(v[0])
	}
	id := federation.Identity{
		Email:         first(pick(c.cfg.AttrEmail, "mail", "email", "emailaddress", "urn:oid:0.9.2342.19200300.100.1.3")),
		Name:          first(pick(c.cfg.AttrName, "displayName", "cn", "name", "urn:oid:2.5.4.3")),
		Groups:        pick(c.cfg.AttrGroups, "groups", "memberOf", "eduPersonAffiliation", "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"),
		EmailVerified: c.cfg.TrustEmail,
	}
	var nameID, format string
	if a.Subject != nil && a.Subject.NameID != nil {
		nameID, format = a.Subject.NameID.Value, a.Subject.NameID.Format
	}
	switch {
	case c.cfg.AttrSubject != "":
		id.Subject = first(attrs[c.cfg.AttrSubject])
	case format == string(crewsaml.TransientNameIDFormat) || nameID == "":
		// A transient NameID changes every sign-in; the email is steadier.
		id.Subject = strings.ToLower(id.Email)
	default:
		id.Subject = nameID
	}
	if id.Email == "" && strings.Contains(nameID, "@") {
		id.Email = nameID
	}
	return id
}

// Metadata returns the SP metadata XML for the partner to import.
func (c *Connector) Metadata() ([]byte, error) {
	return xml.MarshalIndent(c.sp.Metadata(), "", "  ")
}

// Test checks that the IdP metadata names a sign-on endpoint and a signing
// certificate.
func (c *Connector) Test(context.Context) error {
	if c.sp.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding) == "" {
		return errors.New("saml: the IdP metadata has no HTTP-Redirect sign-on endpoint")
	}
	return nil
}

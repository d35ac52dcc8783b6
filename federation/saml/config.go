package saml

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"portico/federation"
)

// TypeName is the stored type of SAML connections.
const TypeName = "saml"

// Type is the registry entry for SAML 2.0.
func Type() federation.Type {
	return federation.Type{
		Name: TypeName, Label: "SAML 2.0",
		Fields: []federation.Field{
			{Key: "metadata_url", Label: "IdP metadata URL", Help: "Or paste the metadata XML below."},
			{Key: "metadata_xml", Label: "IdP metadata XML", Multiline: true},
			{Key: "attr_email", Label: "Email attribute", Help: "Name or friendly name. Default: mail, email."},
			{Key: "attr_name", Label: "Name attribute", Help: "Default: displayName, cn."},
			{Key: "attr_groups", Label: "Groups attribute", Help: "Default: groups, memberOf, eduPersonAffiliation."},
			{Key: "attr_subject", Label: "Subject attribute", Help: "Default: the NameID (the email when NameIDs are transient)."},
			{Key: "trust_email", Label: "Treat emails as verified", Bool: true, Help: "Lets a first SAML sign-in take over an existing account with the same email."},
		},
		New: func() federation.Config { return &Config{} },
	}
}

// Config is a SAML connection's stored configuration. The SP key is the
// connection's sealed secret; its certificate is public and stored here.
type Config struct {
	MetadataURL   string `json:"metadata_url,omitempty"`
	MetadataXML   string `json:"metadata_xml,omitempty"`
	AttrEmail     string `json:"attr_email,omitempty"`
	AttrName      string `json:"attr_name,omitempty"`
	AttrGroups    string `json:"attr_groups,omitempty"`
	AttrSubject   string `json:"attr_subject,omitempty"`
	TrustEmail    bool   `json:"trust_email,omitempty"`
	SPCertificate string `json:"sp_certificate,omitempty"`
}

// Set applies and validates settings.
func (c *Config) Set(s map[string]string) federation.FieldErrors {
	errs := federation.FieldErrors{}
	str := map[string]*string{"metadata_url": &c.MetadataURL, "attr_email": &c.AttrEmail, "attr_name": &c.AttrName,
		"attr_groups": &c.AttrGroups, "attr_subject": &c.AttrSubject}
	for k, dst := range str {
		if v, ok := s[k]; ok {
			*dst = strings.TrimSpace(v)
		}
	}
	if v, ok := s["metadata_xml"]; ok {
		c.MetadataXML = strings.TrimSpace(v)
	}
	if v, ok := s["trust_email"]; ok {
		v = strings.ToLower(strings.TrimSpace(v))
		c.TrustEmail = v == "yes" || v == "true" || v == "on" || v == "1"
	}
	switch {
	case c.MetadataURL == "" && c.MetadataXML == "":
		errs["metadata_url"] = "Enter the IdP's metadata URL or paste its metadata XML."
	case c.MetadataXML != "":
		if _, err := samlsp.ParseMetadata([]byte(c.MetadataXML)); err != nil {
			errs["metadata_xml"] = "This is not SAML metadata XML."
		}
	default:
		if u, err := url.Parse(c.MetadataURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs["metadata_url"] = "Enter an absolute https URL."
		}
	}
	return errs
}

// Settings returns the values for editing.
func (c *Config) Settings() map[string]string {
	trust := "no"
	if c.TrustEmail {
		trust = "yes"
	}
	return map[string]string{"metadata_url": c.MetadataURL, "metadata_xml": c.MetadataXML, "attr_email": c.AttrEmail,
		"attr_name": c.AttrName, "attr_groups": c.AttrGroups, "attr_subject": c.AttrSubject, "trust_email": trust}
}

// PrepareSecret generates the SP's signing key and certificate once.
func (c *Config) PrepareSecret(current []byte) ([]byte, error) {
	if len(current) > 0 && c.SPCertificate != "" {
		return current, nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Portico SAML SP"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	c.SPCertificate = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), nil
}

// Open loads the IdP metadata and builds this connection's SP.
func (c *Config) Open(ctx context.Context, env federation.Env, secret []byte) (federation.Connector, error) {
	kb, _ := pem.Decode(secret)
	cb, _ := pem.Decode([]byte(c.SPCertificate))
	if kb == nil || cb == nil {
		return nil, errors.New("saml: the connection has no SP key; save it again to generate one")
	}
	key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("saml: SP key: %w", err)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("saml: SP certificate: %w", err)
	}
	var idp *crewsaml.EntityDescriptor
	if c.MetadataXML != "" {
		idp, err = samlsp.ParseMetadata([]byte(c.MetadataXML))
	} else {
		var u *url.URL
		if u, err = url.Parse(c.MetadataURL); err == nil {
			idp, err = samlsp.FetchMetadata(ctx, env.Client(), *u)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("saml: IdP metadata: %w", err)
	}
	meta, err := url.Parse(env.SAMLMetadataURL)
	if err != nil {
		return nil, err
	}
	acs, err := url.Parse(env.SAMLACSURL)
	if err != nil {
		return nil, err
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	sp := &crewsaml.ServiceProvider{
		EntityID: meta.String(), Key: key, Certificate: cert, MetadataURL: *meta, AcsURL: *acs,
		IDPMetadata: idp, AllowIDPInitiated: false, HTTPClient: env.Client(),
		SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
	}
	return &Connector{sp: sp, cfg: *c, now: now}, nil
}

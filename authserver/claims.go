package authserver

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"portico/store"
)

// accessClaims is an RFC 9068 access token with Portico's additions: the
// organization's slug, the user's groups and the plan's features, so APIs
// can decide on claims alone.
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience []string `json:"aud"`
	ClientID string   `json:"client_id"`
	Expiry   int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	JTI      string   `json:"jti"`
	Scope    string   `json:"scope,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	AMR      []string `json:"amr,omitempty"`
	ACR      string   `json:"acr,omitempty"`
	Org      string   `json:"org"`
	OrgID    string   `json:"org_id"`
	Groups   []string `json:"groups,omitempty"`
	Features []string `json:"features,omitempty"`
	Act      *actor   `json:"act,omitempty"`
	// ExchangedFrom lists the jtis of the tokens a token exchange made this
	// one from (subject and actor, and theirs): revoking any of them
	// revokes this one.
	ExchangedFrom []string `json:"exchanged_from,omitempty"`
	// ExtIss is the trusted partner issuer that vouched for the subject
	// (token exchange or JWT bearer grant); ExtIssID its registration, which
	// must still exist for the token to verify.
	ExtIss   string `json:"ext_iss,omitempty"`
	ExtIssID string `json:"ext_iss_id,omitempty"`
	// Cnf binds the token to a DPoP key (RFC 9449 §6).
	Cnf *confirmation `json:"cnf,omitempty"`
}

// bind binds the token to the DPoP key with thumbprint jkt ("" leaves it a
// bearer token).
func (c *accessClaims) bind(jkt string) {
	if jkt != "" {
		c.Cnf = &confirmation{JKT: jkt}
	}
}

// jkt returns the thumbprint the token is bound to, or "".
func (c *accessClaims) jkt() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// actor is RFC 8693's act claim: who acts on the subject's behalf; nested
// for delegation chains.
type actor struct {
	Subject  string `json:"sub"`
	ClientID string `json:"client_id,omitempty"`
	Act      *actor `json:"act,omitempty"`
}

// scopes returns the token's scopes as a list.
func (c *accessClaims) scopes() []string { return strings.Fields(c.Scope) }

// isUser reports whether the token's subject is a Portico person rather
// than the client itself (client credentials) or a trusted issuer's subject.
func (c *accessClaims) isUser() bool { return c.Subject != c.ClientID && c.ExtIssID == "" }

// newAccessClaims fills the common claims of an access token for e's client.
func (s *Server) newAccessClaims(e *clientEntry, subject string, scopes []string, now time.Time) *accessClaims {
	return &accessClaims{
		Issuer:   s.cfg.Issuer,
		Subject:  subject,
		Audience: []string{s.cfg.Issuer},
		ClientID: e.client.ClientID,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(s.cfg.Lifetimes.AccessToken).Unix(),
		JTI:      store.NewID(),
		Scope:    strings.Join(scopes, " "),
		Org:      e.org.Slug,
		OrgID:    e.org.ID,
		Features: e.features(),
	}
}

// idClaims is an OpenID Connect ID token.
type idClaims struct {
	Issuer        string   `json:"iss"`
	Subject       string   `json:"sub"`
	Audience      []string `json:"aud"`
	AZP           string   `json:"azp"`
	Expiry        int64    `json:"exp"`
	IssuedAt      int64    `json:"iat"`
	AuthTime      int64    `json:"auth_time,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	AMR           []string `json:"amr,omitempty"`
	ACR           string   `json:"acr,omitempty"`
	ATHash        string   `json:"at_hash,omitempty"`
	SID           string   `json:"sid,omitempty"`
	Org           string   `json:"org"`
	Email         string   `json:"email,omitempty"`
	EmailVerified *bool    `json:"email_verified,omitempty"`
	Name          string   `json:"name,omitempty"`
	Groups        []string `json:"groups,omitempty"`
}

// userClaims are the claims about a person that scopes release, shared by
// ID tokens and userinfo.
type userClaims struct {
	Subject       string   `json:"sub"`
	Email         string   `json:"email,omitempty"`
	EmailVerified *bool    `json:"email_verified,omitempty"`
	Name          string   `json:"name,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	Org           string   `json:"org,omitempty"`
}

func releasedClaims(u store.User, org store.Organization, scopes []string) userClaims {
	c := userClaims{Subject: u.ID, Org: org.Slug}
	if slices.Contains(scopes, "email") {
		v := u.EmailVerified
		c.Email, c.EmailVerified = u.Email, &v
	}
	if slices.Contains(scopes, "profile") {
		c.Name = u.Name
	}
	if slices.Contains(scopes, "groups") {
		c.Groups = nonNilStrings(u.Groups())
	}
	return c
}

// idToken builds and signs an ID token for u.
func (s *Server) idClaims(e *clientEntry, u store.User, scopes []string, nonce string, authTime time.Time, amr []string, accessToken string, now time.Time) *idClaims {
	rc := releasedClaims(u, e.org, scopes)
	c := &idClaims{
		Issuer: s.cfg.Issuer, Subject: u.ID, Audience: []string{e.client.ClientID}, AZP: e.client.ClientID,
		IssuedAt: now.Unix(), Expiry: now.Add(s.cfg.Lifetimes.IDToken).Unix(), Nonce: nonce, AMR: amr,
		Org: e.org.Slug, Email: rc.Email, EmailVerified: rc.EmailVerified, Name: rc.Name, Groups: rc.Groups,
	}
	if !authTime.IsZero() {
		c.AuthTime = authTime.Unix()
	}
	if len(amr) > 0 {
		c.ACR = ACRFor(amr)
	}
	if accessToken != "" {
		h := sha256.Sum256([]byte(accessToken))
		c.ATHash = base64.RawURLEncoding.EncodeToString(h[:16])
	}
	return c
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

package authserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// Token endpoint authentication methods.
const (
	authBasic      = "client_secret_basic"
	authPost       = "client_secret_post"
	authPrivateJWT = "private_key_jwt"
	authNone       = "none"
)

// authenticate identifies and authenticates the client of a token,
// introspection or revocation request: a secret (Basic or form), a
// private_key_jwt assertion (RFC 7523), or, for public clients, its client_id
// alone. Every failure is invalid_client (401) with the same description, so
// a caller cannot tell an unknown client from a wrong secret, and is counted
// by the throttle (throttle.go), which ServeHTTP consults before this.
func (s *Server) authenticate(ctx context.Context, cc *op.ClientCredentials) (*clientEntry, error) {
	e, err := s.authenticateClient(ctx, cc)
	if err != nil && isInvalidClient(err) {
		s.countFailure(ctx, cc)
	}
	return e, err
}

func (s *Server) authenticateClient(ctx context.Context, cc *op.ClientCredentials) (*clientEntry, error) {
	if cc.ClientAssertion != "" {
		return s.authenticateAssertion(ctx, cc)
	}
	e, err := s.clientOrDocument(ctx, cc.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidClient("client authentication failed", err)
	}
	if err != nil {
		return nil, serverError(err)
	}
	c := &e.client
	switch c.TokenEndpointAuthMethod {
	case authBasic, authPost:
		// Either way of sending the secret is accepted: client libraries
		// auto-detect, and the secret is equally protected in both.
		if cc.ClientSecret == "" || !s.secretMatches(c, cc.ClientSecret) {
			return nil, invalidClient("client authentication failed", nil)
		}
	case authNone:
		if cc.ClientSecret != "" {
			return nil, invalidClient("client authentication failed", nil)
		}
	default: // private_key_jwt clients must send an assertion
		return nil, invalidClient("client authentication failed", nil)
	}
	if !c.Enabled {
		return nil, invalidClient("the client is disabled", nil)
	}
	if c.FAPI2 { // FAPI 2.0 §5.3.2.1: private_key_jwt (or mTLS) only
		return nil, invalidClient("FAPI 2.0 clients authenticate with private_key_jwt", nil)
	}
	return e, nil
}

// secretMatches hashes the presented secret once and compares it with every
// live secret (at most two during a rotation), each in constant time.
func (s *Server) secretMatches(c *store.Client, secret string) bool {
	now := s.now()
	got := []byte(s.hash.sum(purposeSecret, secret))
	ok := false
	for _, cs := range c.Secrets {
		if cs.LiveAt(now) && subtle.ConstantTimeCompare(got, []byte(cs.Hash)) == 1 {
			ok = true
		}
	}
	return ok
}

// assertionClaims are the claims RFC 7523 §3 requires of a client assertion.
type assertionClaims struct {
	Issuer   string        `json:"iss"`
	Subject  string        `json:"sub"`
	Audience oidc.Audience `json:"aud"`
	Expiry   int64         `json:"exp"`
	NotBef   int64         `json:"nbf"`
	IssuedAt int64         `json:"iat"`
	JTI      string        `json:"jti"`
}

// maxAssertionLife bounds how far in the future an assertion may expire, so
// the jti we keep to stop replays does not have to live for long.
const maxAssertionLife = time.Hour

func (s *Server) authenticateAssertion(ctx context.Context, cc *op.ClientCredentials) (*clientEntry, error) {
	fail := func(err error) (*clientEntry, error) {
		return nil, invalidClient("client assertion rejected", err)
	}
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}
	jws, err := jose.ParseSigned(cc.ClientAssertion, algs)
	if err != nil || len(jws.Signatures) != 1 {
		return fail(err)
	}
	var unverified assertionClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return fail(err)
	}
	if unverified.Issuer == "" || unverified.Issuer != unverified.Subject ||
		(cc.ClientID != "" && cc.ClientID != unverified.Issuer) {
		return fail(errors.New("iss and sub must both be the client_id"))
	}
	e, err := s.clientOrDocument(ctx, unverified.Issuer)
	if errors.Is(err, store.ErrNotFound) {
		return fail(err)
	}
	if err != nil {
		return nil, serverError(err)
	}
	if e.client.TokenEndpointAuthMethod != authPrivateJWT || !e.client.Enabled {
		return fail(errors.New("client does not use private_key_jwt or is disabled"))
	}
	keys, err := s.clientKeys(ctx, &e.client)
	if err != nil {
		return fail(err)
	}
	if alg := jws.Signatures[0].Header.Algorithm; e.client.FAPI2 && !slices.Contains(fapiAlgs, alg) {
		return fail(errors.New("FAPI 2.0 client assertions are signed with PS256 or ES256"))
	}
	var payload []byte
	kid := jws.Signatures[0].Header.KeyID
	for _, k := range keys.Keys {
		if (kid == "" || k.KeyID == kid) && k.Use != "enc" {
			if payload, err = jws.Verify(k.Key); err == nil {
				break
			}
		}
	}
	if payload == nil {
		return fail(errors.New("no key verifies the assertion"))
	}
	var c assertionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return fail(err)
	}
	now := s.now()
	skew := int64(30)
	switch {
	case c.Issuer != e.client.ClientID || c.Subject != e.client.ClientID:
		return fail(errors.New("iss/sub mismatch"))
	case !slices.ContainsFunc(c.Audience, func(a string) bool {
		return a == s.cfg.Issuer || a == s.url(s.endpoint.token) || a == s.url(s.endpoint.introspect) ||
			a == s.url(s.endpoint.revoke) || a == s.url(s.endpoint.par)
	}):
		return fail(errors.New("audience is not this server"))
	case c.Expiry == 0 || c.Expiry+skew < now.Unix():
		return fail(errors.New("assertion expired"))
	case c.Expiry > now.Add(maxAssertionLife).Unix():
		return fail(errors.New("assertion lives too long"))
	case c.NotBef != 0 && c.NotBef > now.Unix()+skew:
		return fail(errors.New("assertion not yet valid"))
	case c.JTI == "":
		return fail(errors.New("assertion has no jti"))
	}
	if err := s.st.UseAssertionJTI(ctx, e.client.ClientID, c.JTI, time.Unix(c.Expiry+skew, 0)); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return fail(errors.New("assertion replayed"))
		}
		return nil, serverError(err)
	}
	return e, nil
}

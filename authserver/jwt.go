package authserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// JWT header types.
const (
	typAccessToken = "at+jwt" // RFC 9068
	typJWT         = "JWT"
)

// signingKey signs compact JWS directly with the standard library: the
// header is precomputed per type, so an access token costs one JSON
// encoding and one ECDSA signature.
type signingKey struct {
	id, alg string
	signer  crypto.Signer
	headers map[string]string // "alg|typ" -> base64url header
}

func newSigningKey(id, alg string, signer crypto.Signer) *signingKey {
	k := &signingKey{id: id, alg: alg, signer: signer, headers: map[string]string{}}
	algs := []string{alg}
	if alg == algRS256 {
		algs = append(algs, algPS256)
	}
	for _, a := range algs {
		kid := id
		if a == algPS256 {
			kid = pssKeyID(id)
		}
		for _, typ := range []string{typAccessToken, typJWT} {
			h, _ := json.Marshal(map[string]string{"alg": a, "kid": kid, "typ": typ})
			k.headers[a+"|"+typ] = base64.RawURLEncoding.EncodeToString(h)
		}
	}
	return k
}

// sign returns a compact JWS of claims with header typ, using alg (which
// must be the key's alg, or PS256 on an RSA key).
func (k *signingKey) sign(alg, typ string, claims any) (string, error) {
	header, ok := k.headers[alg+"|"+typ]
	if !ok {
		return "", fmt.Errorf("authserver: key %s cannot sign %s", k.id, alg)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(header) + 1 + base64.RawURLEncoding.EncodedLen(len(payload)) + 1 + 350)
	b.WriteString(header)
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(payload))
	digest := sha256.Sum256([]byte(b.String()))
	var sig []byte
	switch key := k.signer.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			return "", err
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case *rsa.PrivateKey:
		if alg == algPS256 {
			sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		}
		if err != nil {
			return "", err
		}
	default:
		return "", errors.New("authserver: unsupported key type")
	}
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(sig))
	return b.String(), nil
}

// signAccess signs access-token claims with the active ES256 key.
func (s *Server) signAccess(ctx context.Context, claims *accessClaims) (string, error) {
	set, err := s.keys.current(ctx, s.fresh)
	if err != nil {
		return "", err
	}
	return set.signers[algES256].sign(algES256, typAccessToken, claims)
}

// signIDToken signs ID-token claims with the client's registered algorithm.
func (s *Server) signIDToken(ctx context.Context, alg string, claims any) (string, error) {
	set, err := s.keys.current(ctx, s.fresh)
	if err != nil {
		return "", err
	}
	keyAlg := algRS256
	switch alg {
	case algES256:
		keyAlg = algES256
	case algRS256, algPS256:
	default:
		alg = algRS256
	}
	return set.signers[keyAlg].sign(alg, typJWT, claims)
}

// errNotOurs: the token is not a JWT this server signed (or it is damaged).
var errNotOurs = errors.New("authserver: not a token issued here")

// verifyOwn checks a JWT signed by one of our keys (including retired ones
// still published) and returns its payload and header type.
func (s *Server) verifyOwn(ctx context.Context, token string) (payload []byte, typ string, err error) {
	if strings.Count(token, ".") != 2 {
		return nil, "", errNotOurs
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.PS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, "", errNotOurs
	}
	h := jws.Signatures[0].Protected
	set, err := s.keys.current(ctx, s.fresh)
	if err != nil {
		return nil, "", err
	}
	pub, ok := set.public[h.KeyID]
	if !ok {
		return nil, "", errNotOurs
	}
	payload, err = jws.Verify(pub)
	if err != nil {
		return nil, "", errNotOurs
	}
	typ, _ = h.ExtraHeaders[jose.HeaderType].(string)
	return payload, typ, nil
}

// verifyAccessToken checks one of our access tokens: signature, type,
// issuer, expiry and revocation.
func (s *Server) verifyAccessToken(ctx context.Context, token string) (*accessClaims, error) {
	c, err := s.verifySignedAccess(ctx, token)
	if err != nil {
		return nil, err
	}
	return c, s.checkRevoked(ctx, c)
}

// verifySignedAccess checks an access token's signature, type, issuer and
// expiry, but not revocation.
func (s *Server) verifySignedAccess(ctx context.Context, token string) (*accessClaims, error) {
	payload, typ, err := s.verifyOwn(ctx, token)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(typ, typAccessToken) {
		return nil, errNotOurs
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errNotOurs
	}
	now := s.now().Unix()
	if c.Issuer != s.cfg.Issuer || c.Expiry <= now || c.JTI == "" {
		return nil, errNotOurs
	}
	return &c, nil
}

// checkRevoked fails with errNotOurs when c, or a token it was exchanged
// from, is revoked.
func (s *Server) checkRevoked(ctx context.Context, c *accessClaims) error {
	// A token exchanged from others dies with any of them (RFC 8693 leaves
	// this to the server; a revoked subject must not live on through its
	// descendants). The list is bounded by maxExchangeDepth. Answers come
	// from the revoked-jti cache (revoked.go).
	for i := 0; i <= len(c.ExchangedFrom); i++ {
		jti := c.JTI
		if i < len(c.ExchangedFrom) {
			jti = c.ExchangedFrom[i]
		}
		revoked, err := s.jtiRevoked(ctx, jti, c.Expiry)
		if err != nil {
			return err
		}
		if revoked {
			return errNotOurs
		}
	}
	// Issued on a trusted issuer's word: it dies when the organization
	// stops trusting the issuer.
	if c.ExtIssID != "" {
		live, err := s.externalLive(ctx, c.OrgID, c.ExtIssID)
		if err != nil {
			return err
		}
		if !live {
			return errNotOurs
		}
	}
	return nil
}

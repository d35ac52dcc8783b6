package authserver

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"portico/store"
)

// DPoP (RFC 9449): a client proves, with every token request and every use
// of a bound token, possession of a private key; the access token carries
// the key's thumbprint in cnf.jkt, so a stolen token is useless without it.
// Proofs are verified with go-jose (JWS parsing, the embedded public JWK,
// the signature and the RFC 7638 thumbprint).

// dpopAlgs are the proof algorithms accepted and advertised: asymmetric
// only (§4.2), none and HMAC never.
var dpopAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA, jose.RS256}

const (
	typDPoP = "dpop+jwt"
	// dpopWindow is how old a proof's iat may be, dpopSkew how far in the
	// future (clock skew). A jti is remembered for as long as its proof
	// could be accepted.
	dpopWindow = 60 * time.Second
	dpopSkew   = 10 * time.Second
	// dpopNonceSlot is how long one server nonce is current; the previous
	// slot's nonce is accepted too, so a nonce lives 5 to 10 minutes.
	dpopNonceSlot = 5 * time.Minute
	// purposeDPoPNonce keys the nonce HMAC; purposeDPoPJTI the replay key.
	purposeDPoPNonce = "dpop_nonce"
	purposeDPoPJTI   = "dpop_jti"
)

// dpopError is a refused proof: invalid_dpop_proof, or use_dpop_nonce with
// a fresh nonce for the client to retry with (§8).
type dpopError struct {
	code, description string
}

func (e *dpopError) Error() string { return e.code + ": " + e.description }

func badProof(d string) *dpopError { return &dpopError{code: "invalid_dpop_proof", description: d} }

// errDPoPRequired: the client, the server or (once wired) the API requires
// sender-constrained tokens and the request had no proof.
func errDPoPRequired() error {
	return &oidc.Error{ErrorType: "invalid_dpop_proof", Description: "a DPoP proof is required for this client (RFC 9449)"}
}

// dpopProof is what a verified proof tells: the key's thumbprint.
type dpopProof struct {
	jkt string
}

type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	Nonce string `json:"nonce"`
	ATH   string `json:"ath"`
}

// verifyDPoP checks the request's DPoP header (§4.3) for a request to the
// endpoint at absolute URL htu; accessToken, when not empty, is the token
// the proof must be bound to (ath, §7). No header is (nil, nil).
func (s *Server) verifyDPoP(ctx context.Context, r *http.Request, htu, accessToken string) (*dpopProof, *dpopError) {
	return s.verifyProof(ctx, r.Header.Values("DPoP"), r.Method, htu, accessToken)
}

// verifyProof is verifyDPoP for a request described rather than received:
// the DPoP header's values, the method and the URL the proof must name.
// The authorizer checks proofs of API calls a gateway forwards this way.
func (s *Server) verifyProof(ctx context.Context, values []string, method, htu, accessToken string) (*dpopProof, *dpopError) {
	if len(values) == 0 {
		return nil, nil
	}
	if len(values) > 1 {
		return nil, badProof("more than one DPoP header")
	}
	jws, err := jose.ParseSigned(values[0], dpopAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, badProof("the DPoP proof is not a JWS signed with " + algList())
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != typDPoP {
		return nil, badProof("the DPoP proof's typ must be dpop+jwt")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, badProof("the DPoP proof must carry its public key as jwk")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return nil, badProof("the DPoP proof's RSA key is shorter than 2048 bits")
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return nil, badProof("the DPoP proof's signature does not verify")
	}
	var c dpopClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, badProof("the DPoP proof's claims are not a JSON object")
	}
	now := s.now()
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return nil, badProof("the DPoP proof has no jti")
	case c.HTM != method:
		return nil, badProof("the DPoP proof's htm does not match the request method")
	case normalizeHTU(c.HTU) != htu:
		return nil, badProof("the DPoP proof's htu does not match the request URL")
	case c.IAT == 0 || unix(c.IAT).Before(now.Add(-dpopWindow)) || unix(c.IAT).After(now.Add(dpopSkew)):
		return nil, badProof("the DPoP proof's iat is outside the acceptable window")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if subtle.ConstantTimeCompare([]byte(c.ATH), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))) != 1 {
			return nil, badProof("the DPoP proof's ath does not match the access token")
		}
	}
	if s.cfg.DPoPNonce || c.Nonce != "" {
		if !s.validDPoPNonce(c.Nonce, now) {
			d := "a fresh DPoP nonce is required"
			if c.Nonce == "" {
				d = "the DPoP proof must carry the server's nonce"
			}
			return nil, &dpopError{code: "use_dpop_nonce", description: d}
		}
	}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, badProof("the DPoP proof's key has no thumbprint")
	}
	jkt := base64.RawURLEncoding.EncodeToString(thumb)
	err = s.jtis.use(ctx, store.DPoPJTI{Key: s.hash.sum(purposeDPoPJTI, jkt+"|"+c.JTI), Expires: unix(c.IAT).Add(dpopWindow + dpopSkew)})
	if errors.Is(err, store.ErrAlreadyExists) {
		return nil, badProof("the DPoP proof was already used (jti replayed)")
	}
	if err != nil {
		s.log.ErrorContext(ctx, "dpop jti", "err", err)
		return nil, badProof("the DPoP proof could not be checked")
	}
	return &dpopProof{jkt: jkt}, nil
}

// normalizeHTU compares URLs as §4.3 asks: without query and fragment, with
// scheme and host in lower case and a default port dropped (RFC 3986 §6).
func normalizeHTU(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "\x00invalid"
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// dpopNonce returns the server's current nonce (§8): an HMAC of the time
// slot under the server key, so every replica issues and accepts the same
// nonces without sharing state.
func (s *Server) dpopNonce(now time.Time) string {
	slot := strconv.FormatInt(now.Unix()/int64(dpopNonceSlot/time.Second), 10)
	return slot + "." + s.hash.sum(purposeDPoPNonce, slot)
}

// validDPoPNonce accepts the current and the previous slot's nonce.
func (s *Server) validDPoPNonce(nonce string, now time.Time) bool {
	for _, t := range []time.Time{now, now.Add(-dpopNonceSlot)} {
		if subtle.ConstantTimeCompare([]byte(nonce), []byte(s.dpopNonce(t))) == 1 {
			return true
		}
	}
	return false
}

func algList() string {
	names := make([]string, len(dpopAlgs))
	for i, a := range dpopAlgs {
		names[i] = string(a)
	}
	return strings.Join(names, " ")
}

// writeDPoPError answers a refused proof at the token or PAR endpoint: 400
// with the error, and a nonce to retry with (§8).
func (s *Server) writeDPoPError(w http.ResponseWriter, e *dpopError) {
	if e.code == "use_dpop_nonce" {
		w.Header().Set("DPoP-Nonce", s.dpopNonce(s.now()))
	}
	writeOAuthError(w, http.StatusBadRequest, e.code, e.description)
}

// dpopCtxKey carries the verified proof from ServeHTTP to the grant.
type dpopCtxKey struct{}

func withDPoP(ctx context.Context, p *dpopProof) context.Context {
	return context.WithValue(ctx, dpopCtxKey{}, p)
}

// dpopFrom returns the verified proof of this request, or nil.
func dpopFrom(ctx context.Context) *dpopProof {
	p, _ := ctx.Value(dpopCtxKey{}).(*dpopProof)
	return p
}

// requiresDPoP reports whether tokens for the client must be
// sender-constrained: the server says so (PORTICO_REQUIRE_DPOP), the
// client does, or it is a FAPI 2.0 client. An API that accepts only
// sender-constrained tokens adds itself here through Config.RequireDPoPFor.
func (s *Server) requiresDPoP(ctx context.Context, e *clientEntry, form url.Values) bool {
	if s.cfg.RequireDPoP || e.client.RequireDPoP || e.client.FAPI2 {
		return true
	}
	return s.cfg.RequireDPoPFor != nil && s.cfg.RequireDPoPFor(ctx, e.client.ClientID, form)
}

// requireSenderConstrained refuses a bearer token for an API that accepts
// only sender-constrained tokens (its RequireSenderConstrained flag,
// published as dpop_bound_access_tokens_required, RFC 9728 §2). It is
// asked by every grant once the API is known, so a code or refresh token
// whose resource came from /authorize is held to it too. The answer is
// RFC 9449's invalid_dpop_proof, as when a client requires DPoP.
func requireSenderConstrained(api *store.API, jkt string) error {
	if api == nil || !api.RequireSenderConstrained || jkt != "" {
		return nil
	}
	return &oidc.Error{ErrorType: "invalid_dpop_proof",
		Description: "resource " + quote(api.Identifier) + " accepts only DPoP-bound tokens: send a DPoP proof (RFC 9449)"}
}

// tokenBinding decides the binding of the tokens a grant issues: the
// proof's key thumbprint, or "" for bearer tokens.
func (s *Server) tokenBinding(ctx context.Context, e *clientEntry, form url.Values) (string, error) {
	p := dpopFrom(ctx)
	if p == nil {
		if s.requiresDPoP(ctx, e, form) {
			return "", errDPoPRequired()
		}
		return "", nil
	}
	return p.jkt, nil
}

// tokenType names the token type of a response: DPoP when bound (§5).
func tokenType(jkt string) string {
	if jkt != "" {
		return "DPoP"
	}
	return oidc.BearerToken
}

// confirmation is RFC 7800's cnf claim with RFC 9449's jkt member.
type confirmation struct {
	JKT string `json:"jkt"`
}

// validJKT checks the shape of a dpop_jkt parameter: a base64url SHA-256.
func validJKT(v string) bool { return len(v) == 43 && isBase64URL(v) }

// serveDPoPResource prepares a resource request (userinfo) that uses the
// DPoP scheme (§7): the proof is verified against the token (ath), and the
// request continues with the token as op expects it and the proof in the
// context. It returns false after answering a refused proof.
func (s *Server) serveDPoPResource(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "DPoP") {
		return r, true
	}
	token = strings.TrimSpace(token)
	p, derr := s.verifyDPoP(r.Context(), r, s.url(r.URL.Path), token)
	if derr == nil && p == nil {
		derr = badProof("the DPoP scheme needs a DPoP proof")
	}
	if derr != nil {
		if derr.code == "use_dpop_nonce" {
			w.Header().Set("DPoP-Nonce", s.dpopNonce(s.now()))
		}
		w.Header().Set("WWW-Authenticate", `DPoP error="`+derr.code+`", error_description="`+
			sanitize(derr.description, 200)+`", algs="`+algList()+`"`)
		writeOAuthError(w, http.StatusUnauthorized, derr.code, derr.description)
		return nil, false
	}
	r = r.WithContext(withDPoP(r.Context(), p))
	r.Header.Set("Authorization", "Bearer "+token)
	return r, true
}

// checkBinding is what a resource endpoint asks of a token: a bound token
// comes with a proof from its key; an unbound one does not come with the
// DPoP scheme (§7.1: a DPoP-bound token presented as a bearer token is
// refused, so it cannot be downgraded).
func checkBinding(ctx context.Context, c *accessClaims) error {
	p := dpopFrom(ctx)
	switch {
	case c.Cnf == nil && p == nil:
		return nil
	case c.Cnf == nil:
		return errInvalidToken("the access token is not DPoP-bound; use the Bearer scheme")
	case p == nil:
		return errInvalidToken("the access token is DPoP-bound; present it with the DPoP scheme and a proof")
	case subtle.ConstantTimeCompare([]byte(c.Cnf.JKT), []byte(p.jkt)) != 1:
		return errInvalidToken("the DPoP proof is not from the key the access token is bound to")
	}
	return nil
}

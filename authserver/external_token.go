package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"portico/store"
)

// externalSubject is what a trusted issuer's verified token says, mapped
// through the issuer's claim mapping.
type externalSubject struct {
	issuer     store.TrustedIssuer
	Subject    string            `json:"sub"`
	Groups     []string          `json:"groups,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	JTI        string            `json:"jti,omitempty"`
	Expiry     int64             `json:"exp"`
	IssuedAt   int64             `json:"iat,omitempty"`
	// jkt is the DPoP key the token is bound to (cnf.jkt), or "".
	jkt string
}

// refusal is why an external token was not accepted; reason is safe to
// show the caller and goes into the decision log.
type refusal struct {
	reason string
	issuer string // the token's iss, when it could be read
}

func (r *refusal) Error() string { return r.reason }

func refuse(iss, format string, args ...any) *refusal {
	return &refusal{reason: fmt.Sprintf(format, args...), issuer: iss}
}

// externalClockSkew is how far a partner's clock may be off.
const externalClockSkew = 30 * time.Second

// unverifiedIssuer reads a JWT's iss without verifying anything: only to
// decide which path a token takes.
func unverifiedIssuer(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Issuer
}

// verifyExternal verifies a JWT from one of orgID's trusted issuers: the
// issuer must be registered by orgID, the algorithm allowed, the signature
// good under the issuer's current keys, the token unexpired, not older
// than the issuer's max age, and addressed to one of its accepted
// audiences. consumeJTI (JWT bearer assertions) also records the jti, so a
// replay is refused. A refusal is a *refusal; other errors are the
// server's.
func (s *Server) verifyExternal(ctx context.Context, orgID, token string, consumeJTI bool) (*externalSubject, error) {
	if s.ist == nil {
		return nil, refuse("", "trusted issuers are not available")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, refuse("", "the token is not a signed JWT")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, refuse("", "the token's header is not readable")
	}
	iss := unverifiedIssuer(token)
	if iss == "" {
		return nil, refuse("", "the token names no issuer")
	}
	ti, err := s.ist.TrustedIssuerByURL(ctx, orgID, iss)
	if errors.Is(err, store.ErrNotFound) {
		elsewhere, err := s.ist.TrustedIssuerRegisteredElsewhere(ctx, orgID, iss)
		if err != nil {
			return nil, err
		}
		if elsewhere {
			return nil, refuse(iss, "the issuer %s is registered by another organization, not the client's", quote(iss))
		}
		return nil, refuse(iss, "the issuer %s is not trusted by the client's organization", quote(iss))
	}
	if err != nil {
		return nil, err
	}
	algs := ti.Algorithms
	if len(algs) == 0 {
		algs = defaultIssuerAlgorithms
	}
	if !slices.Contains(algs, header.Alg) || !slices.Contains(issuerAlgorithms, header.Alg) {
		return nil, refuse(iss, "the algorithm %s is not allowed for this issuer", quote(header.Alg))
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(header.Alg)})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, refuse(iss, "the token is not a valid JWS")
	}
	keys, err := s.issuerKeys.keys(ctx, &ti, header.Kid)
	if errors.Is(err, errUnknownKey) {
		return nil, refuse(iss, "the signature is bad: no key of the issuer has kid %s", quote(header.Kid))
	}
	if err != nil {
		s.log.WarnContext(ctx, "trusted issuer keys unavailable", "issuer", ti.Issuer, "err", err)
		return nil, refuse(iss, "the issuer's keys could not be fetched")
	}
	var payload []byte
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != header.Alg {
			continue
		}
		if payload, err = jws.Verify(k.Key); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, refuse(iss, "the signature is bad")
	}
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, refuse(iss, "the token's claims are not readable")
	}
	now := s.now()
	skew := int64(externalClockSkew / time.Second)
	exp, nbf, iat := numClaim(claims, "exp"), numClaim(claims, "nbf"), numClaim(claims, "iat")
	switch {
	case claims["iss"] != ti.Issuer:
		return nil, refuse(iss, "the token's issuer does not match")
	case exp == 0:
		return nil, refuse(iss, "the token has no expiry")
	case exp+skew < now.Unix():
		return nil, refuse(iss, "the token expired")
	case nbf != 0 && nbf > now.Unix()+skew:
		return nil, refuse(iss, "the token is not valid yet")
	case iat > now.Unix()+skew:
		return nil, refuse(iss, "the token was issued in the future")
	case ti.MaxAge > 0 && iat == 0:
		return nil, refuse(iss, "the token has no issue time, and the issuer has a maximum token age")
	case ti.MaxAge > 0 && now.Unix()-iat > int64(ti.MaxAge/time.Second)+skew:
		return nil, refuse(iss, "the token is older than the issuer's maximum age of %s", ti.MaxAge)
	}
	wantAud := ti.Audiences
	if len(wantAud) == 0 {
		wantAud = []string{s.cfg.Issuer, s.url(s.endpoint.token)}
	}
	if !slices.ContainsFunc(stringsClaim(claims["aud"]), func(a string) bool { return slices.Contains(wantAud, a) }) {
		return nil, refuse(iss, "the token's audience is not one this issuer's tokens must name")
	}
	ext := &externalSubject{issuer: ti, Expiry: exp, IssuedAt: iat, Attributes: map[string]string{}}
	ext.Subject, _ = claims[ti.SubjectClaim].(string)
	if ext.Subject == "" || len(ext.Subject) > 255 {
		return nil, refuse(iss, "the token has no usable %s claim", quote(ti.SubjectClaim))
	}
	if ti.GroupsClaim != "" {
		ext.Groups = stringsClaim(claims[ti.GroupsClaim])
		if len(ext.Groups) > 100 {
			ext.Groups = ext.Groups[:100]
		}
	}
	for name, claim := range ti.AttributeClaims {
		switch v := claims[claim].(type) {
		case string:
			ext.Attributes[name] = v
		case json.Number:
			ext.Attributes[name] = v.String()
		case bool:
			ext.Attributes[name] = fmt.Sprint(v)
		}
	}
	ext.JTI, _ = claims["jti"].(string)
	if cnf, ok := claims["cnf"].(map[string]any); ok {
		ext.jkt, _ = cnf["jkt"].(string)
	}
	if consumeJTI {
		if ext.JTI == "" {
			return nil, refuse(iss, "the assertion has no jti")
		}
		if len(ext.JTI) > 256 { // it is stored until the assertion expires
			return nil, refuse(iss, "the assertion's jti is longer than 256 characters")
		}
		fresh, err := s.ist.UseIssuerJTI(ctx, ti.ID, ext.JTI, unix(exp+skew))
		if err != nil {
			return nil, err
		}
		if !fresh {
			return nil, refuse(iss, "the assertion was used before (jti replayed)")
		}
	}
	return ext, nil
}

func numClaim(claims map[string]any, name string) int64 {
	switch v := claims[name].(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		if f, err := v.Float64(); err == nil {
			return int64(f)
		}
	}
	return 0
}

// stringsClaim reads a claim that is a string or a list of strings (aud,
// groups); a space-separated string is split.
func stringsClaim(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// externalUser is the person or workload behind an external subject, in the
// form the gate takes: it belongs to the client's organization for the
// length of the request, has no Portico account (empty ID), and carries the
// mapped groups and attributes.
func externalUser(org store.Organization, ext *externalSubject) *store.User {
	return &store.User{OrgID: org.ID, Email: ext.Subject, Name: ext.Subject, Status: store.UserActive,
		IdPGroups: ext.Groups, Attributes: ext.Attributes}
}

// admitExternal asks the gate about an external subject: the client's
// machine-to-machine policy at point (token exchange or JWT bearer), then,
// as user access, the client's own policy and every audience app's, each
// knowing which issuer vouched for the subject. Services have
// machine-to-machine policies only, so they are judged at point alone and
// not asked as user access.
func (s *Server) admitExternal(ctx context.Context, point Point, e *clientEntry, ext *externalSubject, scopes, aud []string) error {
	rc := RequestContext{Issuer: ext.issuer.Issuer}
	v, err := s.decide(ctx, GateRequest{Point: point, Org: e.org, Plan: e.plan, Client: &e.client, Scopes: scopes, Context: rc})
	if err != nil {
		s.log.ErrorContext(ctx, "external subject gate failed", "err", err)
		return serverError(err)
	}
	if v.Action != Permit {
		return oidc.ErrUnauthorizedClient().WithDescription("%s", sanitize(v.Reason, 200))
	}
	apps := []string{e.client.ClientID}
	for _, a := range aud {
		if a != s.cfg.Issuer && a != e.client.ClientID {
			apps = append(apps, a)
		}
	}
	for i, a := range apps {
		t := e
		if i > 0 {
			if t, err = s.client(ctx, a); err != nil {
				return serverError(err)
			}
		}
		if t.client.Type == store.ClientService {
			continue
		}
		v, err := s.decide(ctx, GateRequest{Point: PointExternalSubject, Org: t.org, Plan: t.plan, Client: &t.client,
			User: externalUser(t.org, ext), Scopes: scopes, Context: rc})
		if err != nil {
			s.log.ErrorContext(ctx, "external subject gate failed", "err", err)
			return serverError(err)
		}
		if v.Action != Permit {
			reason := v.Reason
			if v.Action == Challenge {
				reason = "the application requires step-up authentication, which this grant cannot perform"
			}
			if i == 0 {
				return oidc.ErrAccessDenied().WithDescription("%s", sanitize(reason, 200))
			}
			return oidc.ErrInvalidTarget().WithDescription("audience %s refused: %s", quote(a), sanitize(reason, 200))
		}
	}
	return nil
}

// externalClaims are the claims of a Portico access token issued on a
// trusted issuer's word: the mapped subject, the partner issuer (ext_iss)
// and its registration (ext_iss_id, checked at every verification), the
// organization, plan features and mapped groups. It never outlives the
// external token.
func (s *Server) externalClaims(e *clientEntry, ext *externalSubject, scopes, aud []string) *accessClaims {
	claims := s.newAccessClaims(e, ext.Subject, scopes, s.now())
	claims.Audience = aud
	claims.Groups = ext.Groups
	claims.ExtIss, claims.ExtIssID = ext.issuer.Issuer, ext.issuer.ID
	claims.Expiry = min(claims.Expiry, ext.Expiry)
	return claims
}

// logRefusal records a refused external token in the decision log, so an
// organization's admins can see why a partner's tokens bounce.
func (s *Server) logRefusal(ctx context.Context, point Point, e *clientEntry, r *refusal) {
	if s.ist == nil {
		return
	}
	c, _ := json.Marshal(map[string]string{"issuer": r.issuer})
	d := store.Decision{At: s.now(), Point: string(point), OrgID: e.client.OrgID,
		ClientID: e.client.ClientID, Subject: e.client.ClientID, Context: c, Action: "deny", Reason: r.reason}
	if _, err := s.ist.InsertDecisions(ctx, []store.Decision{d}); err != nil {
		s.log.ErrorContext(ctx, "decision log", "err", err)
	}
}

// externalLive reports whether the trusted issuer a token was issued on the
// word of is still registered by the token's organization.
func (s *Server) externalLive(ctx context.Context, orgID, issuerID string) (bool, error) {
	if s.ist == nil {
		return false, nil
	}
	return s.ist.TrustedIssuerExists(ctx, orgID, issuerID)
}

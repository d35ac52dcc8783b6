package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// inactiveAnswer is RFC 7662's answer for every token the caller may not
// learn about, byte for byte what op's encoder wrote.
var inactiveAnswer = []byte(`{"active":false}` + "\n")

// serveIntrospection is RFC 7662's endpoint. It is served here rather than
// through op's router, which decoded the form with a reflective decoder and
// wrote the answer by marshaling, unmarshaling into a map and marshaling
// again (zitadel/oidc's IntrospectionResponse): most of the CPU of a call.
// The request is read the way op read it (the last value of a repeated
// parameter; Basic credentials over form ones, never both; the same errors);
// ServeHTTP has already done what every token endpoint gets (POST only, no
// query, the body limit, the failed-authentication throttle, the 401
// challenge, no-store).
func (s *Server) serveIntrospection(w http.ResponseWriter, r *http.Request, basic basicCreds, form *introspectionForm) {
	cc, token, err := introspectionRequest(form, basic)
	if err == nil {
		var body []byte
		if body, err = s.introspect(r.Context(), cc, token); err == nil {
			w.Header()["Content-Type"] = jsonContentType
			w.WriteHeader(http.StatusOK)
			w.Write(body)
			return
		}
	}
	op.WriteError(&challengeWriter{ResponseWriter: w, challenge: s.basicChallenge}, r, err, nil)
}

// introspectionRequest parses an introspection request as op's
// parseClientCredentials and introspectionHandler did, in their order.
// form is the request's body (ServeHTTP refused one it could not parse,
// as op did) and basic its Basic credentials.
func introspectionRequest(form *introspectionForm, basic basicCreds) (*op.ClientCredentials, string, error) {
	last := &form.last
	cc := &op.ClientCredentials{ClientID: last[formClientID], ClientSecret: last[formClientSecret],
		ClientAssertion: last[formClientAssertion], ClientAssertionType: last[formClientAssertionType]}
	// RFC 6749 §2.3: one authentication method per request.
	assertion := cc.ClientAssertion != "" && cc.ClientAssertionType != ""
	secret := cc.ClientSecret != "" && cc.ClientID != ""
	if assertion && secret {
		return nil, "", oidc.ErrInvalidRequest().WithDescription("client authentication must not use more than one method")
	}
	if basic.ok {
		id, pw := basic.user, basic.password
		if assertion || secret {
			return nil, "", oidc.ErrInvalidRequest().WithDescription("client authentication must not use more than one method")
		}
		var err error
		if cc.ClientID, err = url.QueryUnescape(id); err != nil {
			return nil, "", oidc.ErrInvalidClient().WithDescription("invalid basic auth header").WithParent(err)
		}
		if cc.ClientSecret, err = url.QueryUnescape(pw); err != nil {
			return nil, "", oidc.ErrInvalidClient().WithDescription("invalid basic auth header").WithParent(err)
		}
	}
	if cc.ClientID == "" && cc.ClientAssertion == "" {
		return nil, "", oidc.ErrInvalidRequest().WithDescription("client_id or client_assertion must be provided")
	}
	if cc.ClientAssertion != "" && cc.ClientAssertionType != oidc.ClientAssertionTypeJWTAssertion {
		return nil, "", oidc.ErrInvalidRequest().WithDescription("invalid client_assertion_type %s", cc.ClientAssertionType)
	}
	if cc.ClientSecret == "" && cc.ClientAssertion == "" {
		return nil, "", oidc.ErrInvalidClient().WithDescription("client must be authenticated")
	}
	token := last[formToken]
	if token == "" {
		return nil, "", oidc.ErrInvalidRequest().WithDescription("token missing")
	}
	return cc, token, nil
}

// introspect answers RFC 7662. The caller must authenticate as a
// confidential client, and learns about tokens of its own organization
// only: any other token, like an expired, revoked or unknown one, is
// {"active": false}. A token of an organization outside its partnership
// window, or of a disabled client, is inactive too; so is a person's token
// once that person no longer stands where userinfo would answer: removed,
// disabled, or in an organization that is suspended or outside its window.
//
// An access token's active answer depends on its claims alone and is kept
// with its entry in the verified-token cache; whether it may be given
// (expiry, revocation, the key still published, the caller's organization,
// the standing of client and person) is decided on every call.
func (s *Server) introspect(ctx context.Context, cc *op.ClientCredentials, token string) ([]byte, error) {
	caller, err := s.authenticate(ctx, cc)
	if err != nil {
		return nil, err
	}
	if caller.client.TokenEndpointAuthMethod == authNone {
		return nil, invalidClient("public clients may not introspect", nil)
	}
	// token_type_hint is only a hint (RFC 7662 §2.1): try both kinds.
	if e, err := s.verifiedEntry(ctx, token); err == nil {
		c := e.claims
		if c.OrgID != caller.client.OrgID || !s.tokenInGoodStanding(ctx, c.ClientID, c.isUser(), c.Subject) {
			return inactiveAnswer, nil
		}
		if b := e.answer.Load(); b != nil {
			return *b, nil
		}
		b, err := answerJSON(activeAccessAnswer(c))
		if err != nil {
			return nil, serverError(err)
		}
		e.answer.Store(&b)
		return b, nil
	} else if !errors.Is(err, errNotOurs) {
		return nil, serverError(err)
	}
	tok, fam, err := s.st.RefreshToken(ctx, s.hash.sum(purposeRefresh, token))
	if errors.Is(err, store.ErrNotFound) {
		return inactiveAnswer, nil
	}
	if err != nil {
		return nil, serverError(err)
	}
	now := s.now()
	if fam.OrgID != caller.client.OrgID || !fam.RevokedAt.IsZero() || !tok.UsedAt.IsZero() ||
		!now.Before(fam.ExpiresAt) || !s.tokenInGoodStanding(ctx, fam.ClientID, fam.UserID != "", fam.UserID) {
		return inactiveAnswer, nil
	}
	b, err := answerJSON(&oidc.IntrospectionResponse{Active: true, Scope: fam.Scopes, ClientID: fam.ClientID,
		TokenType: "refresh_token", Expiration: oidc.FromTime(fam.ExpiresAt), IssuedAt: oidc.FromTime(tok.CreatedAt),
		Subject: fam.UserID, Issuer: s.cfg.Issuer})
	if err != nil {
		return nil, serverError(err)
	}
	return b, nil
}

// activeAccessAnswer is the active answer for an access token's claims.
func activeAccessAnswer(c *accessClaims) *oidc.IntrospectionResponse {
	resp := &oidc.IntrospectionResponse{Active: true, Scope: c.scopes(), ClientID: c.ClientID,
		TokenType: tokenType(c.jkt()), Expiration: oidc.FromTime(unix(c.Expiry)), IssuedAt: oidc.FromTime(unix(c.IssuedAt)),
		Subject: c.Subject, Audience: c.Audience, Issuer: c.Issuer, JWTID: c.JTI,
		AuthenticationMethodsReferences: c.AMR,
		Claims:                          map[string]any{"org": c.Org, "groups": c.Groups, "features": c.Features}}
	if c.Cnf != nil { // RFC 9449 §6.2
		resp.Claims["cnf"] = c.Cnf
	}
	if c.AuthTime != 0 {
		resp.AuthTime = oidc.FromTime(unix(c.AuthTime))
	}
	if c.ACR != "" {
		resp.Claims["acr"] = c.ACR
	}
	if c.ExtIss != "" {
		resp.Claims["ext_iss"] = c.ExtIss
	}
	if c.Act != nil {
		resp.Actor = &oidc.ActorClaims{Subject: c.Act.Subject, Claims: map[string]any{"client_id": c.Act.ClientID}}
	}
	return resp
}

// answerJSON is what op's writer sent for an answer: json.Encoder's output,
// which is json.Marshal's and a newline.
func answerJSON(resp *oidc.IntrospectionResponse) ([]byte, error) {
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// tokenInGoodStanding: the client a token was issued to still exists, is
// enabled, and its organization is active; and, for a person's token, the
// person still exists, is active, and belongs to the organization the token
// is issued under (theirs, for an app shared with it), which must be active
// too. It is the check userinfo makes.
func (s *Server) tokenInGoodStanding(ctx context.Context, clientID string, isUser bool, userID string) bool {
	e, err := s.clientOrDocument(ctx, clientID)
	if err != nil {
		return false
	}
	if !isUser {
		return standing(s.now(), e.org, &e.client, nil) == ""
	}
	u, err := s.st.UserByID(ctx, userID)
	if err != nil {
		return false
	}
	if e, err = s.forUser(ctx, e, u); err != nil || u.OrgID != e.org.ID {
		return false
	}
	return standing(s.now(), e.org, &e.client, &u) == ""
}

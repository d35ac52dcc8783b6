package authserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// tokenExchange is RFC 8693: a partner's service trades a Portico access
// token (the subject) for one with narrower scope or another audience. With
// an actor token the result carries an act claim naming the actor
// (delegation). Both tokens must belong to the client's organization and
// must have been issued to the client or name it in aud, unless a platform
// admin let the client exchange its organization's other tokens
// (ExchangeAnySubject). A person's token is exchanged for an app only if
// that app's policy would let the person in. The result never outlives the
// subject token, and names the tokens it came from (exchanged_from), so
// revoking any of them makes it inactive too.
//
// A DPoP-bound subject or actor token (cnf.jkt) is sender-constrained here
// as at any resource: the request must carry a DPoP proof from the key it is
// bound to (exchangeBinding), so a stolen bound token cannot be laundered
// into a fresh one. The issued token is bound to the request's proof key,
// which is then the subject's key: a bound token never turns into a bearer
// token by exchange.
func (s *Server) tokenExchange(ctx context.Context, e *clientEntry, req *oidc.TokenExchangeRequest, form url.Values, jkt string) (*op.Response, error) {
	if s.isExternalSubject(req) {
		return s.exchangeExternal(ctx, e, req, jkt)
	}
	if !ourTokenType(req.SubjectTokenType) {
		return nil, invalidRequest("subject_token_type must be an access token")
	}
	if req.RequestedTokenType != "" && !ourTokenType(req.RequestedTokenType) {
		return nil, invalidRequest("only access tokens can be requested")
	}
	subject, err := s.verifyAccessToken(ctx, req.SubjectToken)
	if err != nil {
		return nil, invalidGrant("subject_token is invalid, expired or revoked")
	}
	if subject.OrgID != e.client.OrgID {
		return nil, invalidGrant("subject_token belongs to another organization")
	}
	if !e.mayExchange(subject) {
		return nil, invalidGrant("subject_token was not issued to this client and does not name it in aud")
	}
	if err := exchangeBinding("subject_token", subject.jkt(), jkt); err != nil {
		return nil, err
	}
	from := append(slices.Clone(subject.ExchangedFrom), subject.JTI)
	var act *actor
	if req.ActorToken != "" {
		if !ourTokenType(req.ActorTokenType) {
			return nil, invalidRequest("actor_token_type must be an access token")
		}
		a, err := s.verifyAccessToken(ctx, req.ActorToken)
		if err != nil {
			return nil, invalidGrant("actor_token is invalid, expired or revoked")
		}
		if a.OrgID != e.client.OrgID {
			return nil, invalidGrant("actor_token belongs to another organization")
		}
		if !e.mayExchange(a) {
			return nil, invalidGrant("actor_token was not issued to this client and does not name it in aud")
		}
		if err := exchangeBinding("actor_token", a.jkt(), jkt); err != nil {
			return nil, err
		}
		act = &actor{Subject: a.Subject, ClientID: a.ClientID, Act: a.Act}
		from = append(from, a.ExchangedFrom...)
		from = append(from, a.JTI)
	} else if req.ActorTokenType != "" {
		return nil, invalidRequest("actor_token_type without actor_token")
	}

	api, err := s.exchangeAPI(ctx, e, append(slices.Clone(req.Audience), req.Resource...))
	if err != nil {
		return nil, err
	}
	if err := requireSenderConstrained(api, jkt); err != nil {
		return nil, err
	}
	granted := subject.scopes()
	scopes := dedupe(req.Scopes)
	if len(scopes) == 0 {
		for _, sc := range granted {
			if e.allowsScope(sc) {
				scopes = append(scopes, sc)
			}
		}
		if scopes, err = s.scopesFor(ctx, api, scopes); err != nil {
			return nil, err
		}
	}
	for _, sc := range scopes {
		if !slices.Contains(granted, sc) || !e.allowsScope(sc) {
			return nil, invalidScope("scope " + quote(sc) + " is not within the subject token's scopes and the client's")
		}
	}
	if err := s.checkTargetScopes(ctx, api, scopes); err != nil {
		return nil, err
	}
	aud := []string{identifierOf(api)}
	if api == nil {
		if aud, err = s.exchangeAudience(ctx, e, append(req.Audience, req.Resource...)); err != nil {
			return nil, err
		}
	}

	var user *store.User
	if subject.isUser() {
		u, err := s.st.UserByID(ctx, subject.Subject)
		if err != nil {
			return nil, invalidGrant("the subject no longer exists")
		}
		user = &u
	}
	v, err := s.decide(ctx, GateRequest{Point: PointTokenExchange, Org: e.org, Plan: e.plan, Client: &e.client,
		User: user, Scopes: scopes})
	if err != nil {
		s.log.ErrorContext(ctx, "token exchange gate failed", "err", err)
		return nil, serverError(err)
	}
	if v.Action != Permit {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("%s", sanitize(v.Reason, 200))
	}
	if user != nil {
		if err := s.audiencesAdmit(ctx, aud, user, subject, scopes); err != nil {
			return nil, err
		}
	}
	if from = dedupe(from); len(from) > maxExchangeDepth {
		return nil, invalidGrant("the subject_token was exchanged too many times already")
	}

	now := s.now()
	claims := s.newAccessClaims(e, subject.Subject, scopes, now)
	claims.bind(jkt)
	claims.Audience, claims.Act, claims.ExchangedFrom = aud, act, from
	claims.AuthTime, claims.AMR = subject.AuthTime, subject.AMR
	claims.ExtIss, claims.ExtIssID = subject.ExtIss, subject.ExtIssID
	if subject.ExtIssID != "" {
		claims.Groups = subject.Groups
	}
	if user != nil {
		claims.Groups = user.Groups()
	}
	s.aimAt(claims, api)
	claims.Audience = aud
	claims.Expiry = min(claims.Expiry, subject.Expiry)
	at, err := s.signAccess(ctx, claims)
	if err != nil {
		return nil, serverError(err)
	}
	return tokenResponse(&oidc.TokenExchangeResponse{AccessToken: at, IssuedTokenType: oidc.AccessTokenType,
		TokenType: tokenType(jkt), ExpiresIn: uint64(max(0, claims.Expiry-now.Unix())), Scopes: scopes}), nil
}

// exchangeBinding holds a presented token bound to a DPoP key (bound, its
// cnf.jkt) to that key: the request's proof (proof, its thumbprint, "" for
// none) must come from it. RFC 9449 names no error for a grant that
// presents a bound token: a missing proof is invalid_dpop_proof (the client
// can retry with one), a proof from another key is invalid_grant, as for a
// bound refresh token (§5).
func exchangeBinding(param, bound, proof string) error {
	switch {
	case bound == "":
		return nil
	case proof == "":
		return &oidc.Error{ErrorType: "invalid_dpop_proof",
			Description: param + " is DPoP-bound: send a DPoP proof from the key it is bound to (RFC 9449)"}
	case subtle.ConstantTimeCompare([]byte(bound), []byte(proof)) != 1:
		return invalidGrant(param + " is bound to another DPoP key than the request's proof")
	}
	return nil
}

// maxExchangeDepth bounds the exchanged_from list: how many tokens (subject,
// actor and theirs) one exchanged token may descend from.
const maxExchangeDepth = 16

// mayExchange: a client may present a token issued to it, or one naming it
// in aud (another client exchanged a token for it), or, if a platform admin
// allowed it, any token of its organization.
func (e *clientEntry) mayExchange(c *accessClaims) bool {
	return c.ClientID == e.client.ClientID || slices.Contains(c.Audience, e.client.ClientID) || e.client.ExchangeAnySubject
}

// audiencesAdmit asks, for every app among the audiences, the question
// /authorize would ask: may this person use it? A person the app's policy
// denies must not reach it with an exchanged token. The exchange carries no
// browser, so nothing is known of the person's address or a fresh second
// factor: conditions on them do not hold (policies fail closed), and a
// Challenge is a refusal, since no step-up can happen here.
func (s *Server) audiencesAdmit(ctx context.Context, aud []string, user *store.User, subject *accessClaims, scopes []string) error {
	for _, a := range aud {
		if a == s.cfg.Issuer {
			continue
		}
		if _, err := s.API(ctx, a); err == nil {
			continue // an API has no policy of its own; its allow list was checked
		}
		t, err := s.client(ctx, a)
		if err != nil {
			return serverError(err)
		}
		if t, err = s.forUser(ctx, t, *user); err != nil {
			return serverError(err)
		}
		rc := RequestContext{AMR: subject.AMR}
		if subject.AuthTime != 0 {
			rc.AuthTime = unix(subject.AuthTime)
		}
		v, err := s.decide(ctx, GateRequest{Point: PointTokenExchangeAudience, Org: t.org, Plan: t.plan, Client: &t.client,
			User: user, Scopes: scopes, Context: rc})
		if err != nil {
			s.log.ErrorContext(ctx, "token exchange audience gate failed", "err", err)
			return serverError(err)
		}
		if v.Action != Permit {
			reason := v.Reason
			if v.Action == Challenge {
				reason = "the application requires step-up authentication, which token exchange cannot perform"
			}
			return oidc.ErrInvalidTarget().WithDescription("audience %s refused: %s", quote(a), sanitize(reason, 200))
		}
	}
	return nil
}

// ourTokenType: the subject and actor are Portico access tokens, named
// either way RFC 8693 allows.
func ourTokenType(t oidc.TokenType) bool {
	return t == oidc.AccessTokenType || t == oidc.JWTTokenType
}

// exchangeAudience checks the requested audiences: this issuer (Portico's
// APIs) or clients of the same organization. Anything else is invalid_target.
func (s *Server) exchangeAudience(ctx context.Context, e *clientEntry, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return []string{s.cfg.Issuer}, nil
	}
	out := make([]string, 0, len(requested))
	for _, a := range dedupe(requested) {
		if a == s.cfg.Issuer {
			out = append(out, a)
			continue
		}
		t, err := s.client(ctx, a)
		if errors.Is(err, store.ErrNotFound) || (err == nil && t.client.OrgID != e.client.OrgID) {
			return nil, oidc.ErrInvalidTarget().WithDescription("audience %s is not known", quote(a))
		}
		if err != nil {
			return nil, serverError(err)
		}
		out = append(out, a)
	}
	return out, nil
}

package authserver

import (
	"context"
	"errors"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// verifyAuthRequest finds the client and checks the redirect URI before
// anything else: until the redirect URI is known to be registered, errors
// are shown, never sent to it (RFC 6749 §4.1.2.1).
func (s *Server) verifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	e, err := s.clientOrDocument(ctx, r.Data.ClientID)
	if errors.Is(err, store.ErrNotFound) || r.Data.ClientID == "" {
		return nil, op.NewStatusError(oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client_id"), 400)
	}
	if err != nil {
		return nil, op.NewStatusError(serverError(err), 500)
	}
	// A metadata document's redirect URIs match exactly, loopback ports too.
	if !redirectAllowed(e.client.RedirectURIs, r.Data.RedirectURI, e.client.Type == store.ClientNative && e.metadata == nil) {
		return nil, op.NewStatusError(oidc.ErrInvalidRequestRedirectURI().
			WithDescription("redirect_uri is not registered for this client"), 400)
	}
	return &op.ClientRequest[oidc.AuthRequest]{Request: r, Client: s.opClient(e)}, nil
}

// authorize validates the rest of the request (op has checked prompt and
// the presence of scopes), stores it and sends the browser to the portal's
// login. Its errors are delivered to the client's redirect URI.
func (s *Server) authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	e := entryOf(r.Client)
	a := r.Data
	switch {
	case a.RequestParam != "":
		return nil, oidc.ErrRequestNotSupported().WithDescription("request objects are not supported")
	case r.Form.Get("request_uri") != "":
		return nil, errRequestURINotSupported()
	case a.ResponseType != oidc.ResponseTypeCode:
		// RFC 9700 §2.1.2: implicit and hybrid flows are not offered.
		return nil, errUnsupportedResponseType("only response_type=code is supported")
	case a.ResponseMode != "" && a.ResponseMode != oidc.ResponseModeQuery:
		return nil, invalidRequest("only response_mode=query is supported")
	case !slices.Contains(e.client.GrantTypes, grantCode):
		return nil, oidc.ErrUnauthorizedClient().WithDescription("the client may not use the authorization code flow")
	case !isPushed(ctx) && s.requiresPAR(e):
		return nil, invalidRequest("this client must push its authorization requests (RFC 9126 pushed authorization requests)")
	}
	jkt := r.Form.Get("dpop_jkt")
	if jkt != "" && !validJKT(jkt) {
		return nil, invalidRequest("dpop_jkt must be a base64url SHA-256 JWK thumbprint")
	}
	if err := checkPKCE(e, a.CodeChallenge, string(a.CodeChallengeMethod)); err != nil {
		return nil, err
	}
	scopes := dedupe(a.Scopes)
	if bad := e.checkScopes(scopes); bad != "" {
		return nil, invalidScope("scope " + quote(bad) + " is not allowed for this client")
	}
	api, err := s.target(ctx, e, r.Form["resource"])
	if err != nil {
		return nil, err
	}
	if err := s.checkTargetScopes(ctx, api, scopes); err != nil {
		return nil, err
	}
	if r := standing(s.now(), e.org, &e.client, nil); r != "" {
		return nil, oidc.ErrAccessDenied().WithDescription("%s", r)
	}
	now := s.now()
	ar := store.AuthRequest{
		ClientID: e.client.ClientID, OrgID: e.client.OrgID, RedirectURI: a.RedirectURI, Scopes: scopes,
		State: a.State, Nonce: a.Nonce, ResponseMode: string(a.ResponseMode), Prompt: a.Prompt,
		LoginHint: a.LoginHint, CodeChallenge: a.CodeChallenge, CodeChallengeMethod: string(a.CodeChallengeMethod),
		Resource: identifierOf(api), CreatedAt: now, ExpiresAt: now.Add(s.cfg.Lifetimes.AuthRequest), DPoPJKT: jkt, Pushed: isPushed(ctx),
	}
	for _, v := range a.ACRValues {
		if len(ar.ACRValues) < 5 && len(v) <= 100 {
			ar.ACRValues = append(ar.ACRValues, v)
		}
	}
	if a.MaxAge != nil {
		v := int64(*a.MaxAge)
		ar.MaxAge = &v
	}
	if to, ok := s.signedInAtAuthorize(ctx, e, &ar); ok {
		return op.NewRedirect(to), nil
	}
	if err := s.st.CreateAuthRequest(ctx, &ar); err != nil {
		return nil, serverError(err)
	}
	return op.NewRedirect(s.cfg.LoginURL(ar.ID)), nil
}

// SignedIn tells /authorize who is signed in at the portal in the browser
// that sent the request; ok is false when nobody is, or when the portal
// must show that person something before any app opens (a password to
// change). The portal puts it in the request's context (WithSignedIn).
type SignedIn func(ctx context.Context) (u LoginUser, ok bool)

type signedInKey struct{}

// WithSignedIn attaches the portal's SignedIn to an /authorize request.
func WithSignedIn(ctx context.Context, f SignedIn) context.Context {
	return context.WithValue(ctx, signedInKey{}, f)
}

// signedInAtAuthorize is single sign-on without the login page's hop: for a
// person already signed in, a request that needs nothing shown (no prompt
// but none, a fresh enough sign-in, the acr met, a first-party app or
// consent given, the gate permits) is completed here and stored once, with
// its code: the browser goes straight back to the client. A Deny goes back
// too, as the login page would send it. Anything else returns ok false with
// nothing stored, and the request takes the login page's way, which asks
// the gate again; a Challenge here is asked tentatively (not recorded), so
// the attempt is logged once, by the login page.
func (s *Server) signedInAtAuthorize(ctx context.Context, e *clientEntry, ar *store.AuthRequest) (string, bool) {
	f, _ := ctx.Value(signedInKey{}).(SignedIn)
	// prompt=none asks for no page, which is what this path shows; any
	// other prompt wants one.
	if f == nil || len(ar.Prompt) > 1 || len(ar.Prompt) == 1 && ar.Prompt[0] != oidc.PromptNone {
		return "", false
	}
	u, ok := f(ctx)
	if !ok {
		return "", false
	}
	orig := *ar
	ar.ID = store.NewID()
	to, err := s.complete(ctx, ar, e, u, false)
	if err != nil {
		if !errors.Is(err, errFallBack) && !errors.Is(err, ErrReauthenticationRequired) && !errors.Is(err, ErrStepUpRequired) {
			s.log.WarnContext(ctx, "single sign-on at /authorize failed; the login page takes over", "err", err, "client_id", ar.ClientID)
		}
		*ar = orig
		return "", false
	}
	return to, true
}

// checkPKCE enforces RFC 7636 as RFC 9700 profiles it: S256 only (plain is
// refused), required for public clients and FAPI 2.0 clients (§5.3.2.2),
// honoured for all.
func checkPKCE(e *clientEntry, challenge, method string) error {
	if challenge == "" {
		if e.client.TokenEndpointAuthMethod == authNone || e.client.FAPI2 {
			return invalidRequest("code_challenge is required (PKCE with S256)")
		}
		if method != "" {
			return invalidRequest("code_challenge_method without code_challenge")
		}
		return nil
	}
	if method != string(oidc.CodeChallengeMethodS256) {
		return invalidRequest("code_challenge_method must be S256")
	}
	if len(challenge) != 43 || !isBase64URL(challenge) {
		return invalidRequest("code_challenge must be a base64url SHA-256 (43 characters)")
	}
	return nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isCodeVerifier checks RFC 7636 §4.1: 43–128 unreserved characters.
func isCodeVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// quote puts caller input into an error_description, quoted and safe.
func quote(s string) string { return "'" + sanitize(s, 64) + "'" }

// sanitize keeps what RFC 6749 §5.2 allows in error_description
// (printable ASCII except '"' and '\\'), and at most n bytes.
func sanitize(s string, n int) string {
	b := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(b) < n; i++ {
		if c := s[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '\'' {
			b = append(b, c)
		}
	}
	return string(b)
}

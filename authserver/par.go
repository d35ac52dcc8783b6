package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// Pushed authorization requests (RFC 9126): the client POSTs its
// authorization request, authenticated like a token request, and gets a
// request_uri to send the browser to /authorize with. The parameters never
// pass through the browser, so they cannot be tampered with there.

const (
	requestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// parLifetime is how long a request_uri can be used (§2.2: short).
	parLifetime = 60 * time.Second
	purposePAR  = "par_request_uri"
	// assertionType is RFC 7523's client_assertion_type.
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// errInvalidRequestURI is RFC 9126 §2.3/§4's invalid_request_uri.
func errInvalidRequestURI(d string) *oidc.Error {
	return &oidc.Error{ErrorType: "invalid_request_uri", Description: d}
}

// servePAR is the pushed authorization request endpoint (§2). ServeHTTP
// has checked the method, the throttle and any DPoP proof.
func (s *Server) servePAR(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	form := r.PostForm
	cc := &op.ClientCredentials{ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret"),
		ClientAssertion: form.Get("client_assertion"), ClientAssertionType: form.Get("client_assertion_type")}
	if id, secret, ok := r.BasicAuth(); ok {
		id, err1 := url.QueryUnescape(id)
		secret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || cc.ClientSecret != "" || (cc.ClientID != "" && cc.ClientID != id) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "conflicting client credentials")
			return
		}
		cc.ClientID, cc.ClientSecret = id, secret
	}
	if cc.ClientAssertion != "" && cc.ClientAssertionType != assertionType {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "client_assertion_type must be "+assertionType)
		return
	}
	e, err := s.authenticate(ctx, cc)
	if err == nil {
		err = s.pushAllowed(ctx, e, form)
	}
	if err != nil {
		op.WriteError(w, r, err, s.log)
		return
	}
	params := url.Values{}
	for k, v := range form {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type":
		default:
			params[k] = v
		}
	}
	params.Set("client_id", e.client.ClientID)
	if p := dpopFrom(ctx); p != nil { // §10.1: the proof binds the code like dpop_jkt
		params.Set("dpop_jkt", p.jkt)
	}
	raw, _ := json.Marshal(params)
	handle := newToken()
	now := s.now()
	if err := s.st.CreatePushedRequest(ctx, s.hash.sum(purposePAR, handle), e.client.ClientID, string(raw),
		now, now.Add(parLifetime)); err != nil {
		op.WriteError(w, r, serverError(err), s.log)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"request_uri": requestURIPrefix + handle,
		"expires_in": int(parLifetime / time.Second)})
}

// pushAllowed validates a pushed request as /authorize will (§2.1: errors
// now rather than in the browser), plus what only PAR can check: the FAPI
// 2.0 client's redirect_uri must be in it.
func (s *Server) pushAllowed(ctx context.Context, e *clientEntry, form url.Values) error {
	c := &e.client
	redirect := form.Get("redirect_uri")
	switch {
	case form.Has("request_uri"):
		return invalidRequest("request_uri must not be pushed")
	case form.Has("request"):
		return oidc.ErrRequestNotSupported().WithDescription("request objects are not supported")
	case form.Get("response_type") != string(oidc.ResponseTypeCode):
		return errUnsupportedResponseType("only response_type=code is supported")
	case !slices.Contains(c.GrantTypes, grantCode):
		return oidc.ErrUnauthorizedClient().WithDescription("the client may not use the authorization code flow")
	case redirect == "":
		return invalidRequest("redirect_uri is required")
	case !redirectAllowed(c.RedirectURIs, redirect, c.Type == store.ClientNative):
		return invalidRequest("redirect_uri is not registered for this client")
	}
	if err := checkPKCE(e, form.Get("code_challenge"), form.Get("code_challenge_method")); err != nil {
		return err
	}
	if bad := e.checkScopes(dedupe(strings.Fields(form.Get("scope")))); bad != "" {
		return invalidScope("scope " + quote(bad) + " is not allowed for this client")
	}
	if jkt := form.Get("dpop_jkt"); jkt != "" {
		if !validJKT(jkt) {
			return invalidRequest("dpop_jkt must be a base64url SHA-256 JWK thumbprint")
		}
		if p := dpopFrom(ctx); p != nil && p.jkt != jkt {
			return badProofError("dpop_jkt does not match the DPoP proof's key")
		}
	}
	if s.requiresDPoP(ctx, e, form) && form.Get("dpop_jkt") == "" && dpopFrom(ctx) == nil && e.client.FAPI2 {
		// FAPI 2.0 §5.3.2.2 binds the code: the proof or dpop_jkt is required.
		return badProofError("a DPoP proof or dpop_jkt is required for this client")
	}
	return nil
}

func badProofError(d string) error {
	return &oidc.Error{ErrorType: "invalid_dpop_proof", Description: d}
}

// pushedCtxKey marks an authorization request that came from a pushed one.
type pushedCtxKey struct{}

func isPushed(ctx context.Context) bool { v, _ := ctx.Value(pushedCtxKey{}).(bool); return v }

// resolvePushed replaces an /authorize request that names a request_uri by
// the pushed request it stands for (§4), consuming it: only client_id and
// request_uri are read from the browser. An unknown, used, expired or other
// client's request_uri is answered here, with invalid_request_uri: there is
// no redirect URI to trust yet.
func (s *Server) resolvePushed(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if err := r.ParseForm(); err != nil {
		return r, true // op answers a malformed request
	}
	ru := r.Form.Get("request_uri")
	if ru == "" {
		return r, true
	}
	clientID := r.Form.Get("client_id")
	fail := func(code, d string) (*http.Request, bool) {
		writeOAuthError(w, http.StatusBadRequest, code, d)
		return nil, false
	}
	if clientID == "" {
		return fail("invalid_request", "client_id is required with request_uri")
	}
	handle, ok := strings.CutPrefix(ru, requestURIPrefix)
	if !ok || handle == "" {
		return fail("invalid_request_uri", "request_uri is not one this server issued")
	}
	raw, err := s.st.UsePushedRequest(r.Context(), s.hash.sum(purposePAR, handle), clientID, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return fail("invalid_request_uri", "the request_uri is unknown, expired, already used or was issued to another client")
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "pushed request", "err", err)
		return fail("server_error", "internal error")
	}
	var params url.Values
	if err := json.Unmarshal([]byte(raw), &params); err != nil {
		return fail("server_error", "internal error")
	}
	r2 := r.Clone(context.WithValue(r.Context(), pushedCtxKey{}, true))
	r2.Method = http.MethodGet
	r2.URL.RawQuery = params.Encode()
	r2.Body, r2.ContentLength, r2.Form, r2.PostForm = http.NoBody, 0, nil, nil
	r2.Header.Del("Content-Type")
	return r2, true
}

// requiresPAR: the server, the client or the FAPI 2.0 profile says the
// client must push its authorization requests.
func (s *Server) requiresPAR(e *clientEntry) bool {
	return s.cfg.RequirePAR || e.client.RequirePAR || e.client.FAPI2
}

package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"portico/store"
)

// LoginUser is the person who signed in at the portal for an authorization
// request, with what the gate may consider about this sign-in.
type LoginUser struct {
	UserID   string
	AuthTime time.Time // when the user last authenticated
	MFAAt    time.Time // when MFA was last done in this session; zero if never
	AMR      []string  // authentication methods, e.g. ["pwd", "otp"] or ["fed"]
	// AuthMethods are the amr values with when each was last used; a
	// step-up's method is in it at the step-up's time.
	AuthMethods  map[string]time.Time
	ConnectionID string
	IP           netip.Addr
	Country      string
	NewLocation  bool
	// SteppedUp is set when the portal calls again after the user passed
	// the step-up MFA that ErrStepUpRequired asked for: a second Challenge
	// then counts as met.
	SteppedUp bool
	// User, when set, is the person as the caller has just read them (the
	// session's user, in this request); nil: read by UserID.
	User *store.User
}

// LoginRequest describes a pending authorization request to the login
// page: who is asking and for what.
type LoginRequest struct {
	ID          string
	ClientID    string
	ClientName  string
	LogoURL     string
	OrgID       string // the client's organization
	Scopes      []string
	Prompt      []string // "none", "login", "consent", "select_account"
	MaxAge      *int64
	LoginHint   string
	RedirectURI string
	// Resource is the API identifier the request is for (RFC 8707); "" for
	// the issuer. ScopeGroups presents Scopes grouped by API for a consent
	// page.
	Resource string
	// Unverified is set for a client identified by a Client ID Metadata
	// Document: what it says about itself, not verified by the platform.
	Unverified *ClientMetadata
	ACRValues  []string
}

// LoginRequest returns the pending authorization request id, for the login
// page. Unknown, expired or completed requests are ErrUnknownAuthRequest.
func (s *Server) LoginRequest(ctx context.Context, id string) (LoginRequest, error) {
	ar, e, err := s.pendingRequest(ctx, id)
	if err != nil {
		return LoginRequest{}, err
	}
	return LoginRequest{ID: ar.ID, ClientID: ar.ClientID, ClientName: e.client.Name, LogoURL: e.client.LogoURL,
		OrgID: ar.OrgID, Scopes: ar.Scopes, Prompt: ar.Prompt, MaxAge: ar.MaxAge, LoginHint: ar.LoginHint,
		RedirectURI: ar.RedirectURI, Resource: ar.Resource, Unverified: e.metadata, ACRValues: ar.ACRValues}, nil
}

func (s *Server) pendingRequest(ctx context.Context, id string) (store.AuthRequest, *clientEntry, error) {
	ar, err := s.st.AuthRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ar, nil, ErrUnknownAuthRequest
	}
	if err != nil {
		return ar, nil, err
	}
	if ar.CodeHash != "" || !s.now().Before(ar.ExpiresAt) {
		return ar, nil, ErrUnknownAuthRequest
	}
	e, err := s.clientOrDocument(ctx, ar.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return ar, nil, ErrUnknownAuthRequest
	}
	return ar, e, err
}

// CompleteLogin finishes an authorization request after the portal has
// signed the user in. The contract:
//
//   - Permit: the user is bound to the request, a code is issued, and the
//     returned URL is the client's redirect_uri with code, state and iss;
//     send the browser there (303).
//   - Deny (by the standing checks or the gate): the returned URL is the
//     client's redirect_uri with error=access_denied; send the browser there.
//     err is nil: the client, not the portal, reports the refusal.
//   - Challenge: err matches ErrStepUpRequired (errors.Is) and the URL is
//     empty; run step-up MFA, then call again with SteppedUp and a fresh
//     MFAAt. A second Challenge counts as met, unless the challenge names
//     the methods it needs (StepUpMethods(err): a policy's auth_method
//     condition, or acr_values asking for urn:portico:acr:phr) and none of
//     them is in the AMR.
//   - err matches ErrReauthenticationRequired: the client asked (max_age,
//     prompt=login) for a fresher sign-in than AuthTime; sign in again and
//     call again.
//   - err matches ErrConsentRequired: the client is third-party and the
//     user has not allowed it these scopes (or it sent prompt=consent);
//     show the consent page, then GrantConsent and call again, or
//     DenyConsent. With prompt=none the URL carries consent_required.
//   - err matches ErrUnknownAuthRequest: show a fixed error page.
func (s *Server) CompleteLogin(ctx context.Context, authRequestID string, u LoginUser) (redirect string, err error) {
	ar, e, err := s.pendingRequest(ctx, authRequestID)
	if err != nil {
		return "", err
	}
	return s.complete(ctx, &ar, e, u, true)
}

// complete is CompleteLogin for a request ar of client e. stored: ar is a
// pending request in the store (the login page). Otherwise it is a new
// request at /authorize for a person already signed in (single sign-on,
// see signedInAtAuthorize): it is stored only with its code, in one write,
// and every answer but a code or a Deny is an error with nothing stored
// (errFallBack, or what the login page would be told): the caller then
// stores it and sends the browser to the login page, which asks again.
func (s *Server) complete(ctx context.Context, ar *store.AuthRequest, e *clientEntry, u LoginUser, stored bool) (redirect string, err error) {
	now := s.now()
	if ar.MaxAge != nil && (u.AuthTime.IsZero() || now.Sub(u.AuthTime) > time.Duration(*ar.MaxAge)*time.Second) {
		return "", ErrReauthenticationRequired
	}
	if slices.Contains(ar.Prompt, oidc.PromptLogin) && (u.AuthTime.IsZero() || u.AuthTime.Before(ar.CreatedAt)) {
		return "", ErrReauthenticationRequired
	}
	if e := unmetACR(ar.ACRValues, u.AMR); e != nil {
		return "", e
	}
	var user store.User
	if u.User != nil && u.User.ID == u.UserID {
		user = *u.User
	} else if user, err = s.st.UserByID(ctx, u.UserID); err != nil {
		return "", fmt.Errorf("authserver: complete login: %w", err)
	}
	refuse := func(code, description string) string {
		if stored {
			s.st.DeleteAuthRequest(ctx, ar.ID)
		}
		return s.errorRedirect(*ar, code, description)
	}
	if e.metadata != nil {
		if !stored {
			return "", errFallBack
		}
		if ok, err := s.st.OrgAllowsClientMetadata(ctx, user.OrgID); err != nil {
			return "", err
		} else if !ok {
			return refuse("access_denied", errOrgRefusesMetadata.Error()), nil
		}
	}
	if e, err = s.forUser(ctx, e, user); err != nil {
		return "", fmt.Errorf("authserver: complete login: %w", err)
	}
	if !stored {
		// Asked before the gate, so that a request the consent page must
		// see goes there without a decision recorded here; the login page
		// asks the gate and then for consent, as for any request.
		if errCode, err := s.needsConsent(ctx, *ar, &e.client, user.ID); err != nil || errCode != "" {
			return "", errFallBack
		}
	}
	req := GateRequest{Point: PointAuthorize, Org: e.org, Plan: e.plan, Client: &e.client, User: &user,
		Scopes: ar.Scopes, Context: RequestContext{IP: u.IP, Country: u.Country, NewLocation: u.NewLocation,
			AuthTime: u.AuthTime, MFAAt: u.MFAAt, AMR: u.AMR, AuthMethods: u.AuthMethods, ConnectionID: u.ConnectionID, SteppedUp: u.SteppedUp},
		Tentative: !stored}
	v, err := s.decide(ctx, req)
	if err != nil {
		s.log.ErrorContext(ctx, "authorize gate failed", "err", err, "client_id", e.client.ClientID)
		// The portal shows an error (503 while the database is
		// unavailable); the request stays pending for a retry.
		return "", fmt.Errorf("authserver: complete login: %w", err)
	}
	if v.Action == Challenge && !stored {
		// The login page runs the step-up and asks the gate again; this
		// Challenge was asked tentatively and is not in the log, so nothing
		// may be issued on it here.
		return "", errFallBack
	}
	if v.Action == Challenge && u.SteppedUp && methodsMet(v.StepUpWith, u.AMR) {
		v.Action = Permit
	}
	if v.Action == Challenge {
		// Nobody is asked for a code (or to set up an authenticator) only
		// to be refused afterwards: ask what the gate says once the step-up
		// is passed, and deny now if that is a Deny.
		after := req
		after.Context.SteppedUp, after.Context.MFAAt = true, now
		if a, err := s.decide(ctx, after); err == nil && a.Action == Deny {
			v = a
		}
	}
	switch v.Action {
	case Challenge:
		return "", &StepUpError{Methods: v.StepUpWith, Reason: v.Reason}
	case Deny:
		return refuse("access_denied", v.Reason), nil
	}
	// Consent comes last: nobody is asked to allow an app the policy
	// refuses them.
	if stored {
		if errCode, err := s.needsConsent(ctx, *ar, &e.client, user.ID); err != nil {
			return "", err
		} else if errCode != "" {
			return refuse(errCode, "the user has not allowed this app"), nil
		}
	}
	code := newToken()
	authTime := u.AuthTime
	if authTime.IsZero() {
		authTime = now
	}
	codeHash, codeExpires := s.hash.sum(purposeCode, code), now.Add(s.codeLifetime(e))
	if stored {
		err = s.st.IssueCode(ctx, ar.ID, user.ID, authTime, u.AMR, codeHash, codeExpires)
	} else {
		ar.UserID, ar.AuthTime, ar.AMR, ar.CodeHash, ar.CodeExpiresAt = user.ID, authTime, u.AMR, codeHash, codeExpires
		if codeExpires.After(ar.ExpiresAt) {
			ar.ExpiresAt = codeExpires
		}
		err = s.st.CreateAuthRequest(ctx, ar)
	}
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", ErrUnknownAuthRequest
		}
		return "", err
	}
	return s.clientRedirect(*ar, url.Values{"code": {code}}), nil
}

// errFallBack: single sign-on at /authorize does not apply to this request;
// the login page handles it.
var errFallBack = errors.New("authserver: the login page must complete this request")

// AbortLogin ends an authorization request without signing anyone in and
// returns the client redirect carrying the error: "login_required" for
// prompt=none without a session, "access_denied" when the user cancels,
// "interaction_required" and the like. description goes to the client.
func (s *Server) AbortLogin(ctx context.Context, authRequestID, errorCode, description string) (string, error) {
	ar, _, err := s.pendingRequest(ctx, authRequestID)
	if err != nil {
		return "", err
	}
	s.st.DeleteAuthRequest(ctx, ar.ID)
	return s.errorRedirect(ar, errorCode, description), nil
}

func (s *Server) errorRedirect(ar store.AuthRequest, code, description string) string {
	v := url.Values{"error": {code}}
	if description != "" {
		v.Set("error_description", sanitize(description, 200))
	}
	return s.clientRedirect(ar, v)
}

// clientRedirect appends params, state and iss (RFC 9207) to the request's
// redirect URI, keeping any query it was registered with.
func (s *Server) clientRedirect(ar store.AuthRequest, params url.Values) string {
	u, err := url.Parse(ar.RedirectURI)
	if err != nil { // registered URIs are validated; this cannot happen
		return ar.RedirectURI
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	q.Set("iss", s.cfg.Issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

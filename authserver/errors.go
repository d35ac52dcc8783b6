package authserver

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"portico/store"
)

// Errors the portal tests for with errors.Is.
var (
	// ErrStepUpRequired: the gate answered Challenge; run step-up MFA and
	// call CompleteLogin again with LoginUser.SteppedUp set.
	ErrStepUpRequired = errors.New("authserver: step-up authentication required")
	// ErrUnknownAuthRequest: the authorization request does not exist, has
	// expired or was already completed. Show a fixed message; there is no
	// client to redirect to safely.
	ErrUnknownAuthRequest = errors.New("authserver: unknown or expired authorization request")
	// ErrReauthenticationRequired: the client asked for a fresher sign-in
	// (max_age or prompt=login) than the session has; sign the user in again.
	ErrReauthenticationRequired = errors.New("authserver: the client requires a fresh sign-in")
	// ErrRegistrationDenied: the registration gate refused a client.
	ErrRegistrationDenied = errors.New("authserver: client registration denied")
)

// Wire errors that oidc does not predefine. oidc.Error's type is
// unexported, so each is built from an untyped constant.
func errUnsupportedResponseType(d string) *oidc.Error {
	return &oidc.Error{ErrorType: "unsupported_response_type", Description: d}
}

func errInvalidToken(d string) error {
	return op.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: d}, http.StatusUnauthorized)
}

func errRequestURINotSupported() *oidc.Error {
	return &oidc.Error{ErrorType: "request_uri_not_supported", Description: "request_uri is not supported"}
}

// invalidClient is RFC 6749 §5.2 invalid_client, answered with 401.
func invalidClient(description string, parent error) error {
	return op.NewStatusError(oidc.ErrInvalidClient().WithDescription("%s", description).WithParent(parent), http.StatusUnauthorized)
}

func invalidGrant(description string) error {
	return oidc.ErrInvalidGrant().WithDescription("%s", description)
}

func invalidScope(description string) error {
	return oidc.ErrInvalidScope().WithDescription("%s", description)
}

func invalidRequest(description string) error {
	return oidc.ErrInvalidRequest().WithDescription("%s", description)
}

// serverError is a 500, or a 503 temporarily_unavailable (with the reason,
// which names no secret) when the database is unavailable: the client may
// retry, and nothing was issued.
func serverError(err error) error {
	if reason, ok := store.Unavailable(err); ok {
		return op.NewStatusError(&oidc.Error{ErrorType: "temporarily_unavailable", Description: reason + "; retry shortly", Parent: err},
			http.StatusServiceUnavailable)
	}
	return oidc.ErrServerError().WithDescription("internal error").WithParent(err)
}

// writeOAuthError writes an RFC 6749 §5.2 error body outside op's handlers.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

package main

import (
	"context"
	"errors"
	"fmt"

	"portico/authserver"
	"portico/federation/builtin"
	"portico/handlers"
	"portico/store"
	"portico/views"
)

// signInConfig builds what the sign-in flow needs: the sealer for
// connection secrets (the same secret key as the signing keys), the
// registry of connection types, and, once the authorization server is
// wired, the adapter through which sign-in completes its requests.
func signInConfig(sealer *store.Sealer, oauth *authserver.Server) handlers.SignInConfig {
	sc := handlers.SignInConfig{Sealer: sealer, Registry: builtin.Registry()}
	if oauth != nil {
		sc.Completer = loginCompleter{oauth}
		sc.Consent = consentServer{oauth}
	}
	return sc
}

// loginCompleter adapts authserver to the interface the sign-in flow
// declares, so handlers need not know authserver's types.
type loginCompleter struct{ s *authserver.Server }

// CompleteLogin implements handlers.LoginCompleter.
func (l loginCompleter) CompleteLogin(ctx context.Context, id string, in handlers.CompletedSignIn) (string, error) {
	to, err := l.s.CompleteLogin(ctx, id, authserver.LoginUser{UserID: in.UserID, AuthTime: in.AuthTime, MFAAt: in.MFAAt,
		AMR: in.AMR, AuthMethods: in.AuthMethods, ConnectionID: in.ConnectionID, IP: in.IP, SteppedUp: in.SteppedUp,
		User: in.User})
	switch {
	case errors.Is(err, authserver.ErrStepUpRequired):
		return "", &handlers.StepUpError{Methods: authserver.StepUpMethods(err), Err: err}
	case errors.Is(err, authserver.ErrUnknownAuthRequest):
		return "", fmt.Errorf("%w: %w", handlers.ErrUnknownAuthRequest, err)
	case errors.Is(err, authserver.ErrReauthenticationRequired):
		return "", fmt.Errorf("%w: %w", handlers.ErrReauthenticationRequired, err)
	case errors.Is(err, authserver.ErrConsentRequired):
		return "", fmt.Errorf("%w: %w", handlers.ErrConsentRequired, err)
	}
	return to, err
}

// consentServer adapts authserver's consent step to handlers.ConsentServer.
type consentServer struct{ s *authserver.Server }

func unknownRequest(err error) error {
	if errors.Is(err, authserver.ErrUnknownAuthRequest) {
		return fmt.Errorf("%w: %w", handlers.ErrUnknownAuthRequest, err)
	}
	return err
}

// ConsentPrompt implements handlers.ConsentServer.
func (a consentServer) ConsentPrompt(ctx context.Context, id string) (handlers.ConsentPrompt, error) {
	r, err := a.s.ConsentPrompt(ctx, id)
	if err != nil {
		return handlers.ConsentPrompt{}, unknownRequest(err)
	}
	out := handlers.ConsentPrompt{ClientID: r.ClientID, ClientName: r.ClientName, OrgName: r.OrgName, LogoURL: r.LogoURL}
	for _, sc := range r.Scopes {
		out.Scopes = append(out.Scopes, views.ConsentScope{Name: sc.Name, Description: sc.Description, Group: sc.Group})
	}
	if m := r.Unverified; m != nil {
		out.Unverified = &views.UnverifiedClient{Name: m.Name, Domain: m.Domain, LogoURI: m.LogoURI, ClientID: m.ClientID}
	}
	return out, nil
}

// GrantConsent implements handlers.ConsentServer.
func (a consentServer) GrantConsent(ctx context.Context, id, userID string) error {
	return unknownRequest(a.s.GrantConsent(ctx, id, userID))
}

// DenyConsent implements handlers.ConsentServer.
func (a consentServer) DenyConsent(ctx context.Context, id string) (string, error) {
	to, err := a.s.DenyConsent(ctx, id)
	return to, unknownRequest(err)
}

// UnverifiedClient implements handlers.ClientDescriber.
func (l loginCompleter) UnverifiedClient(ctx context.Context, id string) (views.UnverifiedClient, bool) {
	m, ok, err := l.s.ClientMetadataOf(ctx, id)
	if err != nil || !ok {
		return views.UnverifiedClient{}, false
	}
	return views.UnverifiedClient{Name: m.Name, Domain: m.Domain, LogoURI: m.LogoURI, ClientID: m.ClientID}, true
}
